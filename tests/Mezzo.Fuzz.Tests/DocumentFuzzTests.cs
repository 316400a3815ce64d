using System.Text;
using AwesomeAssertions;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Agent.Images;
using Mezzo.Fuzz.Tests.Harness;
using Mezzo.Protocol.Chronos;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Http;
using Mezzo.Services.Model;

namespace Mezzo.Fuzz.Tests;

/// <summary>
/// JSON documents beyond the Mesos calls: Marathon app definitions (parsed, then normalized and validated as the
/// services API does), Chronos jobs, and image manifests and configs from a registry or an archive.
/// </summary>
public sealed class DocumentFuzzTests
{
    private const int Timeout = 120_000;

    [Fact(Timeout = Timeout)]
    public Task Marathon_app_definitions() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("marathon-app");
        Fuzzer.Run("marathon-app", corpus, Mutations.Of(corpus), input =>
        {
            // As the services API reads a body: a JSON node first, then the app. Parse failures are the 400
            // "Invalid JSON"; normalizing and validating must never throw on what parsed.
            if (HttpJson.Parse(Encoding.UTF8.GetString(input)) is not JsonObject body)
            {
                return;
            }

            var rawId = body["id"] is JsonValue idValue && idValue.TryGetValue<string>(out var text) ? text : "";
            var app = AppJson.Parse(body);
            AppNormalizer.Normalize(app);
            _ = AppNormalizer.Validate(app, rawId);
            _ = AppJson.Serialize(app);
        }, ex => ex is JsonException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Chronos_jobs() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("chronos-job");
        Fuzzer.Run("chronos-job", corpus, Mutations.Of(corpus), input => JobJson.Parse(input, new JobDefaults()), ex => ex is JobValidationException);
    }, TestContext.Current.CancellationToken);

    /// <summary>Found by the fuzzer: a key given twice made JsonObject throw ArgumentException (a 500 from the API).</summary>
    [Fact]
    public void A_job_with_a_key_given_twice_is_refused_as_malformed_json()
    {
        var body = """{"name":"a","command":"true","parents":["b"],"parents":["c"]}"""u8.ToArray();

        var parse = () => JobJson.Parse(body, new JobDefaults());

        parse.Should().Throw<JobValidationException>().WithMessage("Malformed JSON:*parents*");
    }

    [Fact]
    public void An_app_with_a_key_given_twice_is_refused_as_invalid_json()
    {
        var parse = () => HttpJson.Parse("""{"id":"/a","cmd":"x","id":"/b"}""");

        parse.Should().Throw<JsonException>().WithMessage("*id*");
    }

    [Fact(Timeout = Timeout)]
    public Task Image_manifests() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("image-manifest");
        Fuzzer.Run("image-manifest", corpus, Mutations.Of(corpus), input =>
        {
            var manifest = ManifestParsing.Parse(input, "fuzz", "the manifest");
            if (ManifestParsing.IsIndex(manifest, null))
            {
                ManifestParsing.PickPlatform(manifest, "amd64", "fuzz");
            }
        }, ex => ex is ImageException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Image_configs() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("image-config");
        Fuzzer.Run("image-config", corpus, Mutations.Of(corpus), input =>
        {
            var config = ManifestParsing.ParseConfig(input, "fuzz");
            _ = ImageConfig.From(config.Config);
        }, ex => ex is ImageException);
    }, TestContext.Current.CancellationToken);
}

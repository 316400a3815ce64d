using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using Mezzo.Fuzz.Tests.Harness;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Protocol.Json;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;

namespace Mezzo.IntegrationTests;

/// <summary>
/// Mutated call bodies (the fuzz corpus of tests/Fuzz/corpus, broken by the fuzz project's generators) sent to a real
/// master's scheduler and operator APIs and a real agent's operator and executor APIs, in JSON and protobuf: no answer
/// may be a 5xx (other than a deliberate 501), and both processes must still answer /health afterwards. MEZZO_FUZZ_ITERATIONS and MEZZO_FUZZ_SEED
/// work as in tests/Mezzo.Fuzz.Tests.
/// </summary>
public sealed class FuzzedBodyTests
{
    [Fact(Timeout = 300_000)]
    public async Task Fuzzed_call_bodies_never_get_a_5xx_and_master_and_agent_keep_serving()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await InProcessCluster.StartAsync();
        var agent = cluster.Agent!.Url;
        var targets = new[]
        {
            Target<Call>("scheduler-call", new Uri(cluster.MasterUrl, "/api/v1/scheduler")),
            Target<MasterCall>("master-call", new Uri(cluster.MasterUrl, "/api/v1")),
            Target<AgentOperatorCall>("agent-call", new Uri(agent, "/api/v1")),
            Target<ExecutorCall>("executor-call", new Uri(agent, "/api/v1/executor")),
        };

        // A quarter of the iterations per API, half JSON, half protobuf: each one is a real HTTP round trip.
        var perTarget = Math.Max(2, Fuzzer.Iterations / 4);
        var sent = 0;
        foreach (var (name, url, json, protobuf) in targets)
        {
            var bodies = Fuzzer.Samples(Gen.OneOf(
                Mutations.Of(json).Select(body => (Body: body, Type: "application/json")),
                Mutations.OfBytes(protobuf, Mutations.ProtobufTokens).Select(body => (Body: body, Type: MesosProtobuf.MediaType))), perTarget);
            foreach (var (seed, (body, type)) in json.Select(b => (0UL, (b, "application/json"))).Concat(bodies))
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(type);
                request.Headers.Accept.ParseAdd("application/json");

                // A body that happens to be a valid SUBSCRIBE opens an event stream: the headers are the answer.
                using var response = await cluster.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                // 501 is a deliberate answer (a call this process does not implement, as Mesos answers), not a fault.
                if ((int)response.StatusCode >= 500 && response.StatusCode != HttpStatusCode.NotImplemented)
                {
                    var text = await response.Content.ReadAsStringAsync(ct);
                    throw Fuzzer.Failure(name + (type == "application/json" ? "" : "-protobuf"), seed.ToString(CultureInfo.InvariantCulture), body,
                        $"POST {url.AbsolutePath} ({type}) answered {(int)response.StatusCode}: {text}");
                }

                sent++;
            }
        }

        sent.Should().BeGreaterThan(4 * perTarget);
        (await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, "/health"), ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await cluster.Http.GetAsync(new Uri(agent, "/health"), ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private static (string Name, Uri Url, IReadOnlyList<byte[]> Json, IReadOnlyList<byte[]> Protobuf) Target<T>(string corpus, Uri url)
    {
        var json = Fuzzer.Corpus(corpus);
        return (corpus, url, json, [.. json.Select(body => MesosProtobuf.Serialize(MesosJson.Deserialize<T>(body)!))]);
    }
}

using System.Text.Json.Nodes;
using Mezzo.Protocol.Chronos;

namespace Mezzo.Jobs.Tests;

public sealed class JobJsonTests
{
    private static Job Parse(string json) => JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), new JobDefaults());

    private static JsonObject RoundTrip(Job job) => JsonNode.Parse(JobJson.ToUtf8(job))!.AsObject();

    [Fact]
    public void Defaults_are_Chronos_defaults()
    {
        var json = RoundTrip(Parse("""{"name":"j","command":"echo","schedule":"R/2026-01-01T00:00:00Z/PT1H"}"""));
        json["shell"]!.GetValue<bool>().Should().BeTrue();
        json["epsilon"]!.GetValue<string>().Should().Be("PT60S");
        json["retries"]!.GetValue<int>().Should().Be(2);
        json["cpus"]!.GetValue<double>().Should().Be(0.1);
        json["mem"]!.GetValue<double>().Should().Be(128);
        json["disk"]!.GetValue<double>().Should().Be(256);
        json["runAsUser"]!.GetValue<string>().Should().Be("root");
        json["async"]!.GetValue<bool>().Should().BeFalse();
        json["disabled"]!.GetValue<bool>().Should().BeFalse();
        json["concurrent"]!.GetValue<bool>().Should().BeFalse();
        json["lastSuccess"]!.GetValue<string>().Should().BeEmpty();
        json["scheduleTimeZone"]!.GetValue<string>().Should().BeEmpty();
        json.ContainsKey("parents").Should().BeFalse();
        json.ContainsKey("container").Should().BeFalse();
    }

    [Fact]
    public void The_sample_job_from_Chronos_docs_round_trips()
    {
        const string sample = """
            {
              "name": "camus_kafka2hdfs", "command": "/srv/data-infra/kafka/camus/kafka_hdfs_job.bash",
              "arguments": ["-verbose", "-debug"], "shell": false, "epsilon": "PT30M", "executor": "", "executorFlags": "",
              "retries": 2, "owner": "bofh@your-company.com", "async": false, "successCount": 190, "errorCount": 3,
              "lastSuccess": "2014-03-08T16:57:17.507Z", "lastError": "2014-03-01T00:10:15.957Z",
              "cpus": 1.0, "disk": 10240, "mem": 1024, "disabled": false,
              "fetch": [{"uri": "https://url-to-file", "cache": false, "extract": false, "executable": false}],
              "schedule": "R/2014-03-08T20:00:00.000Z/PT2H",
              "environmentVariables": [{"name": "JVMOPTS", "value": "-Xmx1000m"}, {"name": "JAVA_LIBRARY_PATH", "value": "/usr/local/lib"}]
            }
            """;
        var job = Parse(sample);
        var json = RoundTrip(job);
        var original = JsonNode.Parse(sample)!.AsObject();
        foreach (var (key, value) in original)
        {
            JsonNode.DeepEquals(json[key], value).Should().BeTrue($"'{key}' should round-trip: {json[key]?.ToJsonString()} vs {value?.ToJsonString()}");
        }

        json["uris"]!.AsArray().Select(u => u!.GetValue<string>()).Should().Equal("https://url-to-file");
        Parse(json.ToJsonString()).Should().BeEquivalentTo(job);
    }

    [Fact]
    public void The_docker_job_from_Chronos_docs_parses_with_string_amounts()
    {
        var job = Parse("""
            {"schedule": "R/2014-09-25T17:22:00Z/PT2M", "name": "dockerjob",
             "container": {"type": "DOCKER", "image": "libmesos/ubuntu", "network": "BRIDGE",
               "volumes": [{"containerPath": "/var/log/", "hostPath": "/logs/", "mode": "RW"}]},
             "cpus": "0.5", "mem": "512", "fetch": [], "command": "while sleep 10; do date =u %T; done"}
            """);
        job.Cpus.Should().Be(0.5);
        job.Mem.Should().Be(512);
        job.Container!.Image.Should().Be("libmesos/ubuntu");
        job.Container.Volumes.Should().ContainSingle().Which.Should().Be(new JobVolume("/logs/", "/var/log/", "RW"));
        RoundTrip(job)["container"]!["network"]!.GetValue<string>().Should().Be("BRIDGE");
    }

    [Fact]
    public void A_job_without_schedule_or_parents_runs_once_now()
    {
        Parse("""{"name":"now","command":"true"}""").Schedule.Should().Be("R1//PT24H");
    }

    [Theory]
    [InlineData("[]", "JSON object")]
    [InlineData("{", "Malformed JSON")]
    [InlineData("""{"command":"x"}""", "'name' is required")]
    [InlineData("""{"name":"","command":"x"}""", "name '' is invalid")]
    [InlineData("""{"name":"a/b","command":"x"}""", "name 'a/b' is invalid")]
    [InlineData("""{"name":"naïve","command":"x"}""", "is invalid")]
    [InlineData("""{"name":"n"}""", "'command' is required")]
    [InlineData("""{"name":"n","command":"x","cpus":-1}""", "'cpus'")]
    [InlineData("""{"name":"n","command":"x","mem":"lots"}""", "'mem' must be a number")]
    [InlineData("""{"name":"n","command":"x","retries":1.5}""", "'retries'")]
    [InlineData("""{"name":"n","command":"x","retries":-1}""", "'retries'")]
    [InlineData("""{"name":"n","command":"x","shell":"maybe"}""", "'shell' must be true or false")]
    [InlineData("""{"name":"n","command":"x","epsilon":"5 minutes"}""", "'epsilon'")]
    [InlineData("""{"name":"n","command":"x","uris":["a"],"fetch":[{"uri":"b"}]}""", "both uri (deprecated) and fetch")]
    [InlineData("""{"name":"n","command":"x","fetch":[{}]}""", "'fetch[0].uri' is required")]
    [InlineData("""{"name":"n","command":"x","environmentVariables":[{"name":"A"}]}""", "'environmentVariables[0].value' is required")]
    [InlineData("""{"name":"n","command":"x","constraints":[["rack","NEAR","r1"]]}""", "unknown operator 'NEAR'")]
    [InlineData("""{"name":"n","command":"x","constraints":[["rack","LIKE","("]]}""", "not a regular expression")]
    [InlineData("""{"name":"n","command":"x","constraints":["rack"]}""", "'constraints[0]'")]
    [InlineData("""{"name":"n","command":"x","container":{"type":"DOCKER"}}""", "'container.image' is required")]
    [InlineData("""{"name":"n","command":"x","container":{"image":"i","type":"RKT"}}""", "'container.type'")]
    [InlineData("""{"name":"n","command":"x","schedule":"R//PT1H","parents":["p"]}""", "either 'schedule' or 'parents'")]
    [InlineData("""{"name":"n","command":"x","parents":["a/b"]}""", "'parents'")]
    [InlineData("""{"name":"n","command":"x","parents":"p"}""", "'parents' must be an array")]
    public void Bad_bodies_are_refused_naming_the_field(string json, string reason)
    {
        var parse = () => Parse(json);
        parse.Should().Throw<JobValidationException>().Which.Message.Should().Contain(reason);
    }

    [Fact]
    public void Names_too_long_for_a_task_id_are_refused()
    {
        var parse = () => Parse($$"""{"name":"{{new string('n', 201)}}","command":"x"}""");
        parse.Should().Throw<JobValidationException>().Which.Message.Should().Contain("at most 200");
    }

    [Theory]
    [InlineData("daily_report")]
    [InlineData("with space")]
    [InlineData("v1.2#3-x")]
    public void Chronos_names_are_valid(string name) => JobJson.IsValidName(name).Should().BeTrue();
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;

namespace Mezzo.Services.Tests.Model;

public sealed class AppNormalizerTests
{
    private static (AppDefinition App, List<ValidationError> Errors) Check(string json)
    {
        var raw = JsonNode.Parse(json)!["id"]?.GetValue<string>() ?? "";
        var app = AppNormalizer.Normalize(AppJson.Parse(json));
        return (app, AppNormalizer.Validate(app, raw));
    }

    [Fact]
    public void A_minimal_app_gets_Marathons_defaults()
    {
        var (app, errors) = Check("""{"id":"web","cmd":"sleep 100"}""");

        errors.Should().BeEmpty();
        app.Id.Should().Be("/web");
        app.Instances.Should().Be(1);
        app.Cpus.Should().Be(1);
        app.Mem.Should().Be(128);
        app.Disk.Should().Be(0);
        app.BackoffSeconds.Should().Be(1);
        app.BackoffFactor.Should().Be(1.15);
        app.MaxLaunchDelaySeconds.Should().Be(3600);
        app.RequirePorts.Should().BeFalse();
        app.UpgradeStrategy!.MinimumHealthCapacity.Should().Be(1);
        app.UpgradeStrategy.MaximumOverCapacity.Should().Be(1);
        app.KillSelection.Should().Be("YOUNGEST_FIRST");
        app.PortDefinitions.Should().ContainSingle().Which.Port.Should().Be(0);
        app.PortDefinitions![0].Protocol.Should().Be("tcp");
        app.Role.Should().Be("*");
        app.Executor.Should().Be("");
    }

    [Theory]
    [InlineData("web/", "/web")]
    [InlineData("/prod/web", "/prod/web")]
    [InlineData("prod/./web", "/prod/web")]
    [InlineData("/prod/../web", "/web")]
    public void Ids_become_absolute_canonical_paths(string id, string expected) =>
        Check($$"""{"id":"{{id}}","cmd":"x"}""").App.Id.Should().Be(expected);

    [Theory]
    [InlineData("/Bad_ID")]
    [InlineData("a b")]
    [InlineData("-dash")]
    [InlineData("/web/tasks")]
    [InlineData("..")]
    public void Invalid_ids_are_rejected_on_the_id_path(string id)
    {
        var errors = Check($$"""{"id":"{{id}}","cmd":"x"}""").Errors;
        errors.Should().Contain(e => e.Path == "/id");
    }

    [Fact]
    public void Missing_id_is_error_path_missing() =>
        Check("""{"cmd":"x"}""").Errors.Should().ContainEquivalentOf(new ValidationError("/id", "error.path.missing"));

    [Fact]
    public void Cmd_and_args_together_or_neither_are_rejected_with_Marathons_message()
    {
        const string message = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";
        Check("""{"id":"a","cmd":"x","args":["y"]}""").Errors.Should().ContainEquivalentOf(new ValidationError("/", message));
        Check("""{"id":"a"}""").Errors.Should().ContainEquivalentOf(new ValidationError("/", message));
        Check("""{"id":"a","container":{"type":"DOCKER","docker":{"image":"busybox"}}}""").Errors.Should().BeEmpty();
        Check("""{"id":"a","args":["sleep","1"]}""").Errors.Should().BeEmpty();
    }

    [Fact]
    public void Out_of_range_numbers_name_their_field()
    {
        var errors = Check("""{"id":"a","cmd":"x","instances":-1,"cpus":0,"mem":-5,"disk":-1,"backoffFactor":0.5,"upgradeStrategy":{"minimumHealthCapacity":1.2,"maximumOverCapacity":-0.1}}""").Errors;

        errors.Select(e => e.Path).Should().BeEquivalentTo(
            "/instances", "/cpus", "/mem", "/disk", "/backoffFactor", "/upgradeStrategy/minimumHealthCapacity", "/upgradeStrategy/maximumOverCapacity");
        errors.Should().ContainEquivalentOf(new ValidationError("/upgradeStrategy/minimumHealthCapacity", "got 1.2, expected between 0.0 and 1.0"));
        errors.Should().ContainEquivalentOf(new ValidationError("/instances", "got -1, expected 0 or more"));
    }

    [Fact]
    public void Constraints_are_checked_operator_by_operator()
    {
        Check("""{"id":"a","cmd":"x","constraints":[["hostname","UNIQUE"],["rack","GROUP_BY","3"],["rack","MAX_PER","2"],["host","LIKE","srv.*"],["zone","CLUSTER","a"]]}""")
            .Errors.Should().BeEmpty();
        var errors = Check("""{"id":"a","cmd":"x","constraints":[["hostname","NEAR"],["hostname"],["rack","MAX_PER","two"],["h","LIKE","("]]}""").Errors;
        errors.Select(e => e.Path).Should().BeEquivalentTo("/constraints(0)", "/constraints(1)", "/constraints(2)", "/constraints(3)");
    }

    [Fact]
    public void Health_checks_get_defaults_and_their_port_index_must_exist()
    {
        var (app, errors) = Check("""{"id":"a","cmd":"x","healthChecks":[{"protocol":"MESOS_HTTP"}]}""");
        errors.Should().BeEmpty();
        var check = app.HealthChecks!.Single();
        check.Path.Should().Be("/");
        check.GracePeriodSeconds.Should().Be(300);
        check.IntervalSeconds.Should().Be(60);
        check.TimeoutSeconds.Should().Be(20);
        check.MaxConsecutiveFailures.Should().Be(3);
        check.PortIndex.Should().Be(0);

        Check("""{"id":"a","cmd":"x","healthChecks":[{"protocol":"HTTP","portIndex":3}]}""").Errors.Should().ContainSingle(e => e.Path == "/healthChecks(0)");
        Check("""{"id":"a","cmd":"x","healthChecks":[{"protocol":"SMTP"}]}""").Errors.Should().ContainSingle(e => e.Path == "/healthChecks(0)/protocol");
        Check("""{"id":"a","cmd":"x","healthChecks":[{"protocol":"COMMAND"}]}""").Errors.Should().ContainSingle(e => e.Path == "/healthChecks(0)/command");
    }

    [Fact]
    public void Several_Marathon_side_checks_are_allowed_but_at_most_one_Mesos_check()
    {
        Check("""{"id":"a","cmd":"x","portDefinitions":[{"port":0},{"port":0}],"healthChecks":[{"protocol":"HTTP"},{"protocol":"TCP","portIndex":1},{"protocol":"HTTPS","port":8443},{"protocol":"MESOS_HTTP"}]}""")
            .Errors.Should().BeEmpty();

        var errors = Check("""{"id":"a","cmd":"x","healthChecks":[{"protocol":"MESOS_TCP"},{"protocol":"COMMAND","command":{"value":"true"}}]}""").Errors;
        errors.Should().ContainSingle().Which.Should().Be(new ValidationError("/", "AppDefinition can contain at most one Mesos health check"));
    }

    [Theory]
    [InlineData("""{"protocol":"HTTP","path":"health"}""", "/healthChecks(0)/path")]
    [InlineData("""{"protocol":"HTTP","port":70000}""", "/healthChecks(0)/port")]
    [InlineData("""{"protocol":"TCP","intervalSeconds":-1}""", "/healthChecks(0)/intervalSeconds")]
    [InlineData("""{"protocol":"TCP","timeoutSeconds":-1}""", "/healthChecks(0)/timeoutSeconds")]
    [InlineData("""{"protocol":"HTTP","gracePeriodSeconds":-5}""", "/healthChecks(0)/gracePeriodSeconds")]
    [InlineData("""{"protocol":"HTTP","maxConsecutiveFailures":-1}""", "/healthChecks(0)/maxConsecutiveFailures")]
    [InlineData("""{"protocol":"HTTPS","portIndex":1}""", "/healthChecks(0)")]
    public void Invalid_health_check_fields_are_named_by_Marathons_path(string check, string path)
    {
        var errors = Check($$"""{"id":"a","cmd":"x","healthChecks":[{{check}}]}""").Errors;

        errors.Should().ContainSingle().Which.Path.Should().Be(path);
    }

    [Fact]
    public void Deprecated_ports_and_uris_are_converted()
    {
        var (app, errors) = Check("""{"id":"a","cmd":"x","ports":[0,8080],"uris":["http://x/y.tgz"]}""");

        errors.Should().BeEmpty();
        app.PortDefinitions!.Select(p => p.Port).Should().Equal(0, 8080);
        app.Ports.Should().BeNull();
        app.Fetch.Should().ContainSingle().Which.Uri.Should().Be("http://x/y.tgz");
        app.Uris.Should().BeNull();
    }

    [Fact]
    public void Docker_port_mappings_move_to_the_container_and_replace_the_default_port()
    {
        var (app, errors) = Check("""{"id":"a","container":{"type":"DOCKER","docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80}]}}}""");

        errors.Should().BeEmpty();
        app.Container!.PortMappings.Should().ContainSingle().Which.HostPort.Should().Be(0);
        app.PortDefinitions.Should().BeEmpty();
    }

    [Fact]
    public void A_docker_container_needs_an_image() =>
        Check("""{"id":"a","container":{"type":"DOCKER","docker":{}}}""").Errors.Should().ContainSingle(e => e.Path == "/container/docker/image");

    [Fact]
    public void Unreachable_strategy_takes_disabled_or_ordered_seconds()
    {
        Check("""{"id":"a","cmd":"x","unreachableStrategy":"disabled"}""").Errors.Should().BeEmpty();
        Check("""{"id":"a","cmd":"x","unreachableStrategy":{"inactiveAfterSeconds":600,"expungeAfterSeconds":60}}""").Errors.Should().ContainSingle(e => e.Path == "/unreachableStrategy");
        Check("""{"id":"a","cmd":"x","unreachableStrategy":"sometimes"}""").Errors.Should().ContainSingle(e => e.Path == "/unreachableStrategy");
    }

    [Fact]
    public void Fields_of_the_wrong_type_give_Marathons_invalid_JSON_detail()
    {
        var ex = Assert.Throws<JsonException>(() => AppJson.Parse("""{"id":"a","cmd":"x","cpus":"lots"}"""));
        var body = AppJson.InvalidJson(ex);

        body["message"]!.GetValue<string>().Should().Be("Invalid JSON");
        body["details"]![0]!["path"]!.GetValue<string>().Should().Be("/cpus");
        body["details"]![0]!["errors"]![0]!.GetValue<string>().Should().Be("error.expected.jsnumber");
    }

    [Fact]
    public void A_normalized_app_survives_a_JSON_round_trip_unchanged()
    {
        var (app, _) = Check(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Model", "marathon-app.json")));
        AppJson.Serialize(AppJson.Parse(AppJson.Serialize(app))).Should().Be(AppJson.Serialize(app));
        app.Labels.Should().ContainKey("owner");
        app.Container!.Docker!.Image.Should().Be("mesosphere:marathon/latest");
    }

    [Fact]
    public void Error_bodies_group_errors_by_path()
    {
        var body = ValidationError.Body([new("/cpus", "a"), new("/cpus", "b"), new("/mem", "c")]);
        body.ToJsonString().Should().Be("""{"message":"Object is not valid","details":[{"path":"/cpus","errors":["a","b"]},{"path":"/mem","errors":["c"]}]}""");
    }

    [Fact]
    public void Readiness_checks_get_Marathons_defaults_and_must_name_a_port()
    {
        var (app, errors) = Check("""{"id":"a","cmd":"x","portDefinitions":[{"port":0,"name":"http-api"}],"readinessChecks":[{}]}""");
        errors.Should().BeEmpty();
        var check = app.ReadinessChecks!.Single();
        (check.Name, check.Protocol, check.Path, check.PortName, check.IntervalSeconds, check.TimeoutSeconds).Should().Be(("readinessCheck", "HTTP", "/", "http-api", 30, 10));
        check.HttpStatusCodesForReady.Should().Equal(200);

        Check("""{"id":"a","cmd":"x","readinessChecks":[{"portName":"web"}]}""").Errors.Should().ContainSingle(e => e.Path == "/readinessChecks(0)/portName");
        Check("""{"id":"a","cmd":"x","portDefinitions":[{"name":"http-api"}],"readinessChecks":[{"intervalSeconds":5,"timeoutSeconds":5}]}""")
            .Errors.Should().ContainSingle(e => e.Path == "/readinessChecks(0)/timeoutSeconds");
    }
}

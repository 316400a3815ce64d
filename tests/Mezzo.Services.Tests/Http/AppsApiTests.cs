using System.Text.Json.Nodes;

namespace Mezzo.Services.Tests.Http;

/// <summary>The /v2/apps contract over real HTTP: status codes, headers and bodies as Marathon's docs show them.</summary>
public sealed class AppsApiTests
{
    private const string Web = """{"id":"/web","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":2}""";

    [Fact]
    public async Task POST_creates_the_app_with_201_Location_and_a_deployment_that_is_listed_before_the_response()
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, response) = await host.PostAsync("/v2/apps", Web);

        status.Should().Be(201);
        response.Headers.Location!.AbsolutePath.Should().Be("/v2/apps/web");
        var deploymentId = response.Headers.GetValues("Marathon-Deployment-Id").Single();
        body!["id"]!.GetValue<string>().Should().Be("/web");
        body["instances"]!.GetValue<int>().Should().Be(2);
        body["deployments"]![0]!["id"]!.GetValue<string>().Should().Be(deploymentId);
        body["tasksRunning"]!.GetValue<int>().Should().Be(0);
        body["version"]!.GetValue<string>().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");

        var deployments = (await host.GetAsync("/v2/deployments")).Body!.AsArray();
        var deployment = deployments.Should().ContainSingle().Subject!;
        deployment["id"]!.GetValue<string>().Should().Be(deploymentId);
        deployment["affectedApps"]![0]!.GetValue<string>().Should().Be("/web");
        deployment["steps"]!.AsArray().SelectMany(s => s!["actions"]!.AsArray()).Select(a => a!["action"]!.GetValue<string>())
            .Should().Equal("StartApplication", "ScaleApplication");
        deployment["totalSteps"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task GET_shows_the_app_with_counts_and_an_unknown_one_is_404_with_Marathons_message()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);

        var (status, body, _) = await host.GetAsync("/v2/apps/web");
        status.Should().Be(200);
        body!["app"]!["tasksStaged"]!.GetValue<int>().Should().Be(0);
        body["app"]!["tasks"]!.AsArray().Should().BeEmpty();

        foreach (var path in new[] { "/v2/apps/nope", "/v2/apps/nope/tasks", "/v2/apps/nope/versions", "/v2/apps/a/b/nope" })
        {
            var (missing, message, _) = await host.GetAsync(path);
            missing.Should().Be(404, path);
            message!["message"]!.GetValue<string>().Should().MatchRegex("^App '/.*' does not exist$");
        }

        (await host.GetAsync("/v2/apps/nope")).Body!["message"]!.GetValue<string>().Should().Be("App '/nope' does not exist");
    }

    [Fact]
    public async Task Invalid_apps_get_422_with_details_and_nothing_is_stored()
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, _) = await host.PostAsync("/v2/apps", """{"id":"/Bad_ID","cpus":-1,"instances":-2}""");

        status.Should().Be(422);
        body!["message"]!.GetValue<string>().Should().Be("Object is not valid");
        body["details"]!.AsArray().Select(d => d!["path"]!.GetValue<string>()).Should().Contain(["/id", "/", "/cpus", "/instances"]);
        (await host.GetAsync("/v2/apps")).Body!["apps"]!.AsArray().Should().BeEmpty();
        (await host.GetAsync("/v2/deployments")).Body!.AsArray().Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{"id":"/web","cmd":"x","cpus":"many"}""", "/cpus")]
    [InlineData("""{"id":"/web","cmd":"x","instances":1.5}""", "/instances")]
    [InlineData("""{"id":"/web","cmd":"x","env":[]}""", "/env")]
    public async Task Fields_of_the_wrong_type_get_400_Invalid_JSON_naming_the_field(string json, string path)
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, _) = await host.PostAsync("/v2/apps", json);

        status.Should().Be(400);
        body!["message"]!.GetValue<string>().Should().Be("Invalid JSON");
        body["details"]![0]!["path"]!.GetValue<string>().Should().Be(path);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public async Task Bodies_that_are_not_a_JSON_object_get_400(string json)
    {
        await using var host = await ServicesHost.StartAsync();
        var (status, body, _) = await host.PostAsync("/v2/apps", json);
        status.Should().Be(400);
        body!["message"]!.GetValue<string>().Should().StartWith("Invalid JSON");
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413_and_nothing_changes()
    {
        await using var host = await ServicesHost.StartAsync();
        var huge = "{\"id\":\"/web\",\"cmd\":\"x\",\"labels\":{\"big\":\"" + new string('a', 2 * 1024 * 1024) + "\"}}";

        var (status, _, _) = await host.PostAsync("/v2/apps", huge);

        status.Should().Be(413);
        (await host.GetAsync("/v2/apps")).Body!["apps"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task Creating_an_existing_app_is_409()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);

        var (status, body, _) = await host.PostAsync("/v2/apps", Web);

        status.Should().Be(409);
        body!["message"]!.GetValue<string>().Should().Be("An app with id [/web] already exists.");
    }

    [Fact]
    public async Task A_change_to_an_app_in_deployment_is_409_with_the_deployment_ids_unless_forced()
    {
        await using var host = await ServicesHost.StartAsync();
        var first = (await host.PostAsync("/v2/apps", Web)).Response.Headers.GetValues("Marathon-Deployment-Id").Single();

        var (status, body, _) = await host.SendAsync(HttpMethod.Put, "/v2/apps/web", """{"instances":3}""");
        status.Should().Be(409);
        body!["message"]!.GetValue<string>().Should().StartWith("App is locked by one or more deployments.");
        body["deployments"]![0]!["id"]!.GetValue<string>().Should().Be(first);
        (await host.GetAsync("/v2/apps/web")).Body!["app"]!["instances"]!.GetValue<int>().Should().Be(2, "nothing was applied");

        var (forced, result, response) = await host.SendAsync(HttpMethod.Put, "/v2/apps/web?force=true", """{"instances":3}""");
        forced.Should().Be(200);
        result!["deploymentId"]!.GetValue<string>().Should().Be(response.Headers.GetValues("Marathon-Deployment-Id").Single()).And.NotBe(first);
        result["version"].Should().NotBeNull();
        var deployments = (await host.GetAsync("/v2/deployments")).Body!.AsArray();
        deployments.Should().ContainSingle().Which!["id"]!.GetValue<string>().Should().Be(result["deploymentId"]!.GetValue<string>());
        (await host.GetAsync("/v2/apps/web")).Body!["app"]!["instances"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public async Task PATCH_changes_only_the_given_fields_and_scaling_keeps_the_config_version()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);
        var before = (await host.GetAsync("/v2/apps/web")).Body!["app"]!;

        var (status, _, _) = await host.SendAsync(HttpMethod.Patch, "/v2/apps/web?force=true", """{"instances":5}""");

        status.Should().Be(200);
        var after = (await host.GetAsync("/v2/apps/web")).Body!["app"]!;
        after["instances"]!.GetValue<int>().Should().Be(5);
        after["cmd"]!.GetValue<string>().Should().Be("sleep 1000");
        after["versionInfo"]!["lastConfigChangeAt"]!.GetValue<string>().Should().Be(before["versionInfo"]!["lastConfigChangeAt"]!.GetValue<string>());
        after["versionInfo"]!["lastScalingAt"]!.GetValue<string>().Should().NotBe(before["versionInfo"]!["lastScalingAt"]!.GetValue<string>());
        after["portDefinitions"]![0]!["port"]!.GetValue<int>().Should().Be(before["portDefinitions"]![0]!["port"]!.GetValue<int>(), "the service port stays");
        var deployment = (await host.GetAsync("/v2/deployments")).Body!.AsArray().Single()!;
        deployment["steps"]![0]!["actions"]![0]!["action"]!.GetValue<string>().Should().Be("ScaleApplication");

        (await host.SendAsync(HttpMethod.Patch, "/v2/apps/other", """{"instances":5}""")).Status.Should().Be(404);
    }

    [Fact]
    public async Task PUT_of_an_unknown_app_creates_it_with_201()
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, response) = await host.SendAsync(HttpMethod.Put, "/v2/apps/prod/api", """{"cmd":"sleep 1","cpus":0.1,"mem":8}""");

        status.Should().Be(201);
        response.Headers.Location!.AbsolutePath.Should().Be("/v2/apps/prod/api");
        body!["deploymentId"].Should().NotBeNull();
        (await host.GetAsync("/v2/apps/prod/api")).Body!["app"]!["id"]!.GetValue<string>().Should().Be("/prod/api");
    }

    [Fact]
    public async Task Versions_are_listed_newest_first_and_each_can_be_read()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);
        await host.SendAsync(HttpMethod.Put, "/v2/apps/web?force=true", """{"cmd":"sleep 2000"}""");

        var versions = (await host.GetAsync("/v2/apps/web/versions")).Body!["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();

        versions.Should().HaveCount(2).And.BeInDescendingOrder(StringComparer.Ordinal);
        (await host.GetAsync($"/v2/apps/web/versions/{versions[1]}")).Body!["cmd"]!.GetValue<string>().Should().Be("sleep 1000");
        (await host.GetAsync($"/v2/apps/web/versions/{versions[0]}")).Body!["cmd"]!.GetValue<string>().Should().Be("sleep 2000");
        (await host.GetAsync("/v2/apps/web/versions/2001-01-01T00:00:00.000Z")).Status.Should().Be(404);
    }

    [Fact]
    public async Task Deleting_a_deployment_rolls_the_app_back_and_force_just_stops_it()
    {
        await using var host = await ServicesHost.StartAsync();
        var created = (await host.PostAsync("/v2/apps", Web)).Response.Headers.GetValues("Marathon-Deployment-Id").Single();

        var (status, body, _) = await host.SendAsync(HttpMethod.Delete, $"/v2/deployments/{created}");

        status.Should().Be(200);
        body!["deploymentId"]!.GetValue<string>().Should().NotBe(created);
        (await host.GetAsync("/v2/apps/web")).Status.Should().Be(404, "rolling back a creation removes the app");

        await host.PostAsync("/v2/apps", Web);
        var update = (await host.SendAsync(HttpMethod.Put, "/v2/apps/web?force=true", """{"cmd":"sleep 5"}""")).Body!["deploymentId"]!.GetValue<string>();
        (await host.SendAsync(HttpMethod.Delete, $"/v2/deployments/{update}?force=true")).Status.Should().Be(202);
        (await host.GetAsync("/v2/deployments")).Body!.AsArray().Should().BeEmpty();
        (await host.GetAsync("/v2/apps/web")).Body!["app"]!["cmd"]!.GetValue<string>().Should().Be("sleep 5", "force stops without rolling back");

        (await host.SendAsync(HttpMethod.Delete, "/v2/deployments/nope")).Status.Should().Be(404);
    }

    [Fact]
    public async Task Rolling_back_an_update_restores_the_previous_definition()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);
        var update = (await host.SendAsync(HttpMethod.Put, "/v2/apps/web?force=true", """{"cmd":"sleep 5","instances":4}""")).Body!["deploymentId"]!.GetValue<string>();

        (await host.SendAsync(HttpMethod.Delete, $"/v2/deployments/{update}")).Status.Should().Be(200);

        var app = (await host.GetAsync("/v2/apps/web")).Body!["app"]!;
        app["cmd"]!.GetValue<string>().Should().Be("sleep 1000");
        app["instances"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task DELETE_removes_the_app_and_answers_with_the_deployment()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);

        (await host.SendAsync(HttpMethod.Delete, "/v2/apps/web")).Status.Should().Be(409, "its creation is still deploying");
        var (status, body, _) = await host.SendAsync(HttpMethod.Delete, "/v2/apps/web?force=true");

        status.Should().Be(200);
        body!["deploymentId"].Should().NotBeNull();
        (await host.GetAsync("/v2/apps/web")).Status.Should().Be(404);
        (await host.SendAsync(HttpMethod.Delete, "/v2/apps/web")).Status.Should().Be(404);
    }

    [Fact]
    public async Task Apps_are_filtered_by_id_cmd_and_labels()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", """{"id":"/prod/db","cmd":"postgres","labels":{"env":"prod","tier":"db"}}""");
        await host.PostAsync("/v2/apps", """{"id":"/prod/web","cmd":"nginx","labels":{"env":"prod","tier":"web"}}""");
        await host.PostAsync("/v2/apps", """{"id":"/dev/web","cmd":"NGINX -debug","labels":{"env":"dev"}}""");

        async Task<List<string>> Ids(string query) =>
            [.. (await host.GetAsync("/v2/apps" + query)).Body!["apps"]!.AsArray().Select(a => a!["id"]!.GetValue<string>())];

        (await Ids("?id=prod")).Should().Equal("/prod/db", "/prod/web");
        (await Ids("?cmd=nginx")).Should().Equal("/dev/web", "/prod/web");
        (await Ids("?label=env==prod,tier!=db")).Should().Equal("/prod/web");
        (await Ids("?label=tier")).Should().Equal("/prod/db", "/prod/web");
        (await Ids("?label=env%20in%20(dev,qa)")).Should().Equal("/dev/web");
        (await Ids("?label=env%20notin%20(dev)")).Should().Equal("/prod/db", "/prod/web");
        (await host.GetAsync("/v2/apps?label=env%20in%20dev")).Status.Should().Be(400);
    }

    [Fact]
    public async Task Restart_and_a_new_config_replace_tasks_while_scaling_does_not()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);

        var (status, body, _) = await host.PostAsync("/v2/apps/web/restart?force=true", "");

        status.Should().Be(200);
        var deployment = (await host.GetAsync("/v2/deployments")).Body!.AsArray().Single()!;
        deployment["id"]!.GetValue<string>().Should().Be(body!["deploymentId"]!.GetValue<string>());
        deployment["steps"]![0]!["actions"]![0]!["action"]!.GetValue<string>().Should().Be("RestartApplication");
        (await host.PostAsync("/v2/apps/nope/restart", "")).Status.Should().Be(404);
    }

    [Fact]
    public async Task PUT_on_v2_apps_updates_several_apps_in_one_deployment()
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, _) = await host.SendAsync(HttpMethod.Put, "/v2/apps", """[{"id":"/a","cmd":"x"},{"id":"/b","cmd":"y"}]""");

        status.Should().Be(200);
        var deployment = (await host.GetAsync("/v2/deployments")).Body!.AsArray().Single()!;
        deployment["id"]!.GetValue<string>().Should().Be(body!["deploymentId"]!.GetValue<string>());
        deployment["affectedApps"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("/a", "/b");
        (await host.SendAsync(HttpMethod.Put, "/v2/apps", """{"id":"/a"}""")).Status.Should().Be(400);
    }

    [Fact]
    public async Task Everything_survives_a_restart_of_the_services_process()
    {
        var dir = Directory.CreateTempSubdirectory("mezzo-services-restart-").FullName;
        try
        {
            string deploymentId;
            await using (var first = await ServicesHost.StartAsync(dir))
            {
                deploymentId = (await first.PostAsync("/v2/apps", Web)).Response.Headers.GetValues("Marathon-Deployment-Id").Single();
                await first.SendAsync(HttpMethod.Put, "/v2/apps/web?force=true", """{"cmd":"sleep 7"}""");
            }

            await using var second = await ServicesHost.StartAsync(dir);
            var app = (await second.GetAsync("/v2/apps/web")).Body!["app"]!;
            app["cmd"]!.GetValue<string>().Should().Be("sleep 7");
            (await second.GetAsync("/v2/apps/web/versions")).Body!["versions"]!.AsArray().Should().HaveCount(2);
            var deployments = (await second.GetAsync("/v2/deployments")).Body!.AsArray();
            deployments.Should().ContainSingle().Which!["id"]!.GetValue<string>().Should().NotBe(deploymentId, "the forced update replaced the first");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Concurrent_changes_are_serialized_one_create_wins_and_disjoint_apps_deploy_side_by_side()
    {
        await using var host = await ServicesHost.StartAsync();

        var same = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => host.PostAsync("/v2/apps", Web)));
        same.Count(r => r.Status == 201).Should().Be(1);
        same.Count(r => r.Status == 409).Should().Be(9);

        var disjoint = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => host.PostAsync("/v2/apps", $$"""{"id":"/app-{{i}}","cmd":"x"}""")));
        disjoint.Should().OnlyContain(r => r.Status == 201);
        (await host.GetAsync("/v2/deployments")).Body!.AsArray().Should().HaveCount(11, "one per app, none blocking another");
        (await host.GetAsync("/v2/apps")).Body!["apps"]!.AsArray().Should().HaveCount(11);
    }

    [Fact]
    public async Task Embedding_tasks_and_failures_is_on_request_only()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", Web);

        var plain = (await host.GetAsync("/v2/apps")).Body!["apps"]![0]!;
        plain["tasks"].Should().BeNull();
        plain["tasksRunning"].Should().NotBeNull();
        plain["deployments"]!.AsArray().Should().ContainSingle();
        (await host.GetAsync("/v2/apps?embed=apps.tasks")).Body!["apps"]![0]!["tasks"]!.AsArray().Should().BeEmpty();
    }
}

namespace Mezzo.Services.Tests.Http;

public sealed class GroupsApiTests
{
    private const string Shop = """
        {
          "id": "/shop",
          "dependencies": [],
          "apps": [{ "id": "web", "cmd": "x", "dependencies": ["db"] }],
          "groups": [{ "id": "db", "apps": [{ "id": "pg", "cmd": "y", "instances": 2 }] }]
        }
        """;

    [Fact]
    public async Task A_group_deploys_its_apps_in_dependency_order_in_one_deployment()
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, response) = await host.PostAsync("/v2/groups", Shop);

        status.Should().Be(201);
        response.Headers.Location!.AbsolutePath.Should().Be("/v2/groups/shop");
        var deployment = (await host.GetAsync("/v2/deployments")).Body!.AsArray().Single()!;
        deployment["id"]!.GetValue<string>().Should().Be(body!["deploymentId"]!.GetValue<string>());
        deployment["steps"]!.AsArray().Select(s => string.Join(",", s!["actions"]!.AsArray().Select(a => $"{a!["action"]}:{a["app"]}")))
            .Should().Equal("StartApplication:/shop/db/pg,StartApplication:/shop/web", "ScaleApplication:/shop/db/pg", "ScaleApplication:/shop/web");
        (await host.GetAsync("/v2/apps/shop/web")).Body!["app"]!["dependencies"]![0]!.GetValue<string>().Should().Be("/shop/db");

        var group = (await host.GetAsync("/v2/groups/shop")).Body!;
        group["apps"]![0]!["id"]!.GetValue<string>().Should().Be("/shop/web");
        group["groups"]![0]!["apps"]![0]!["id"]!.GetValue<string>().Should().Be("/shop/db/pg");
        (await host.GetAsync("/v2/groups/nope")).Status.Should().Be(404);
        (await host.PostAsync("/v2/groups", Shop)).Status.Should().Be(409);
    }

    [Fact]
    public async Task The_waiting_queue_holds_back_apps_whose_dependencies_have_not_arrived()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/groups", Shop);

        var queued = (await host.GetAsync("/v2/queue")).Body!["queue"]!.AsArray().Select(q => q!["app"]!["id"]!.GetValue<string>());

        queued.Should().Equal("/shop/db/pg");
    }

    [Fact]
    public async Task ScaleBy_PUT_that_leaves_an_app_out_and_DELETE_change_the_group()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/groups", Shop);

        (await host.SendAsync(HttpMethod.Put, "/v2/groups/shop?force=true", """{"scaleBy": 1.5}""")).Status.Should().Be(200);
        (await host.GetAsync("/v2/apps/shop/db/pg")).Body!["app"]!["instances"]!.GetValue<int>().Should().Be(3);

        (await host.SendAsync(HttpMethod.Put, "/v2/groups/shop?force=true", """{"apps":[{"id":"web","cmd":"x2"}]}""")).Status.Should().Be(200);
        (await host.GetAsync("/v2/apps/shop/db/pg")).Status.Should().Be(404, "PUT replaces the group");
        (await host.GetAsync("/v2/apps/shop/web")).Body!["app"]!["cmd"]!.GetValue<string>().Should().Be("x2");

        (await host.SendAsync(HttpMethod.Delete, "/v2/groups/shop?force=true")).Status.Should().Be(200);
        (await host.GetAsync("/v2/apps")).Body!["apps"]!.AsArray().Should().BeEmpty();
        (await host.SendAsync(HttpMethod.Delete, "/v2/groups/shop")).Status.Should().Be(404);
    }

    [Fact]
    public async Task Invalid_apps_in_a_group_and_cyclic_dependencies_are_422_and_change_nothing()
    {
        await using var host = await ServicesHost.StartAsync();

        var (status, body, _) = await host.PostAsync("/v2/groups", """{"id":"/g","apps":[{"id":"a","cmd":"x"},{"id":"b","cmd":"x","cpus":-1}]}""");
        status.Should().Be(422);
        body!["details"]![0]!["path"]!.GetValue<string>().Should().Be("/apps(1)/cpus");

        var (cyclic, cycle, _) = await host.PostAsync("/v2/groups", """{"id":"/g","apps":[{"id":"a","cmd":"x","dependencies":["b"]},{"id":"b","cmd":"x","dependencies":["a"]}]}""");
        cyclic.Should().Be(422);
        cycle!["details"]![0]!["errors"]![0]!.GetValue<string>().Should().Contain("cyclic");
        (await host.GetAsync("/v2/apps")).Body!["apps"]!.AsArray().Should().BeEmpty();
        (await host.PostAsync("/v2/groups", """{"id":"/Bad_Group","apps":[{"id":"a","cmd":"x"}]}""")).Status.Should().Be(422);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The operator API (<c>POST /api/v1</c>) and the legacy /weights, /quota and /roles endpoints over real HTTP.</summary>
public sealed class OperatorApiTests
{
    [Fact]
    public async Task Read_calls_answer_in_Mesos_shape_on_both_paths()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        foreach (var path in (string[])["api/v1", "master/api/v1"])
        {
            var health = await CallJsonAsync(cluster, """{"type":"GET_HEALTH"}""", path);
            ((string?)health["type"]).Should().Be("GET_HEALTH");
            ((bool?)health["get_health"]!["healthy"]).Should().BeTrue();
        }

        var version = await CallJsonAsync(cluster, """{"type":"GET_VERSION"}""");
        ((string?)version["get_version"]!["version_info"]!["version"]).Should().Be("1.11.0");

        var flags = (await CallJsonAsync(cluster, """{"type":"GET_FLAGS"}"""))["get_flags"]!["flags"]!.AsArray();
        flags.Select(f => (string?)f!["name"]).Should().Contain(["work_dir", "port", "allocation_interval"]);
        ((string?)flags.First(f => (string?)f!["name"] == "port")!["value"]).Should().Be(cluster.MasterUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        (await CallJsonAsync(cluster, """{"type":"GET_WEIGHTS"}"""))["get_weights"]!["weight_infos"]!.AsArray().Should().BeEmpty();
        var quota = await CallJsonAsync(cluster, """{"type":"GET_QUOTA"}""");
        quota["get_quota"]!["status"]!["configs"]!.AsArray().Should().BeEmpty();
        (await CallJsonAsync(cluster, """{"type":"GET_ROLES"}"""))["get_roles"]!["roles"]!.AsArray().Should().BeEmpty();
        var withAccept = await SendAsync(cluster, HttpMethod.Post, "api/v1", """{"type":"GET_HEALTH"}""", accept: "application/json");
        withAccept.Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Weights_through_the_call_and_the_legacy_endpoint()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);

        var update = await CallAsync(cluster, """{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"dev","weight":2.5},{"role":"eng/backend","weight":0.5}]}}""");
        update.Status.Should().Be(HttpStatusCode.OK, update.Body);
        var put = await SendAsync(cluster, HttpMethod.Put, "weights", """[{"role":"qa","weight":4}]""", contentType: null);
        put.Status.Should().Be(HttpStatusCode.OK, put.Body);

        var infos = (await CallJsonAsync(cluster, """{"type":"GET_WEIGHTS"}"""))["get_weights"]!["weight_infos"]!.AsArray();
        infos.Select(i => ((string?)i!["role"], (double?)i["weight"])).Should().Equal(("dev", 2.5), ("eng/backend", 0.5), ("qa", 4.0));
        foreach (var path in (string[])["weights", "master/weights"])
        {
            var legacy = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, path)))!.AsArray();
            legacy.Select(i => (string?)i!["role"]).Should().Equal("dev", "eng/backend", "qa");
        }
    }

    [Fact]
    public async Task Quota_through_every_call_and_the_legacy_endpoint()
    {
        await using var cluster = await InProcessCluster.StartAsync();

        var update = await CallAsync(cluster, """
            {"type":"UPDATE_QUOTA","update_quota":{"force":false,"quota_configs":[
              {"role":"eng","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":3},"mem":{"value":2048}}},
              {"role":"eng/a","guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":2}}}]}}
            """);
        update.Status.Should().Be(HttpStatusCode.OK, update.Body);
        var set = await CallAsync(cluster, """{"type":"SET_QUOTA","set_quota":{"quota_request":{"role":"dev","guarantee":[{"name":"mem","type":"SCALAR","scalar":{"value":512}}]}}}""");
        set.Status.Should().Be(HttpStatusCode.OK, set.Body);
        var post = await SendAsync(cluster, HttpMethod.Post, "quota", """{"role":"qa","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}}]}""", contentType: null);
        post.Status.Should().Be(HttpStatusCode.OK, post.Body);

        var status = (await CallJsonAsync(cluster, """{"type":"GET_QUOTA"}"""))["get_quota"]!["status"]!;
        status["configs"]!.AsArray().Select(c => (string?)c!["role"]).Should().Equal("dev", "eng", "eng/a", "qa");
        var eng = status["configs"]!.AsArray().First(c => (string?)c!["role"] == "eng")!;
        ((double?)eng["guarantees"]!["cpus"]!["value"]).Should().Be(2);
        ((double?)eng["limits"]!["mem"]!["value"]).Should().Be(2048);
        var legacyInfo = status["infos"]!.AsArray().First(i => (string?)i!["role"] == "dev")!;
        ((string?)legacyInfo["guarantee"]![0]!["name"]).Should().Be("mem");

        var remove = await CallAsync(cluster, """{"type":"REMOVE_QUOTA","remove_quota":{"role":"dev"}}""");
        remove.Status.Should().Be(HttpStatusCode.OK, remove.Body);
        (await SendAsync(cluster, HttpMethod.Delete, "quota/eng/a", null, contentType: null)).Status.Should().Be(HttpStatusCode.OK);
        (await SendAsync(cluster, HttpMethod.Delete, "master/quota/qa", null, contentType: null)).Status.Should().Be(HttpStatusCode.OK);

        foreach (var path in (string[])["quota", "master/quota"])
        {
            var legacy = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, path)))!;
            legacy["configs"]!.AsArray().Select(c => (string?)c!["role"]).Should().Equal("eng");
            ((string?)legacy["infos"]![0]!["role"]).Should().Be("eng");
        }
    }

    [Fact]
    public async Task Roles_report_frameworks_offers_weights_and_quota()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        var info = JsonNode.Parse(RawScheduler.FrameworkInfo("roles"))!;
        info["role"] = "dev";
        await scheduler.SubscribeAsync(info.ToJsonString());
        await scheduler.NextOfferAsync();
        (await CallAsync(cluster, """{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"dev","weight":3}]}}""")).Status.Should().Be(HttpStatusCode.OK);
        (await CallAsync(cluster, """{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"dev","limits":{"cpus":{"value":4}}}]}}""")).Status.Should().Be(HttpStatusCode.OK);

        // A weight change takes the offers back and hands them out again; wait for the new one.
        var dev = await Poll.UntilAsync(async () =>
        {
            var roles = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "roles")))!["roles"]!.AsArray();
            var role = roles.FirstOrDefault(r => (string?)r!["name"] == "dev");
            return role is not null && role["offered"]!["cpus"] is not null ? role : null;
        }, "the dev role to hold an offer");

        ((double?)dev["weight"]).Should().Be(3);
        ((string?)dev["frameworks"]![0]).Should().Be(scheduler.FrameworkId);
        ((double?)dev["offered"]!["cpus"]).Should().Be(4);
        ((double?)dev["resources"]!["mem"]).Should().Be(4096);
        ((string?)dev["quota"]!["role"]).Should().Be("dev");
        ((double?)dev["quota"]!["limit"]!["cpus"]).Should().Be(4);
        dev["quota"]!["guarantee"]!.AsObject().Should().BeEmpty();
        dev["quota"]!["consumed"]!.AsObject().Should().BeEmpty("offers are not consumption");
        dev["allocated"]!.AsObject().Should().BeEmpty();
        dev["reserved"]!.AsObject().Should().BeEmpty();
        foreach (var path in (string[])["roles.json", "master/roles", "master/roles.json"])
        {
            (await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, path))).StatusCode.Should().Be(HttpStatusCode.OK, path);
        }

        var role = (await CallJsonAsync(cluster, """{"type":"GET_ROLES"}"""))["get_roles"]!["roles"]!.AsArray().Single()!;
        ((string?)role["name"]).Should().Be("dev");
        ((double?)role["weight"]).Should().Be(3);
        ((string?)role["frameworks"]![0]!["value"]).Should().Be(scheduler.FrameworkId);
        role["resources"]!.AsArray().Select(r => (string?)r!["name"]).Should().Contain(["cpus", "mem"]);
    }

    [Fact]
    public async Task Weights_and_quota_survive_a_master_restart()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        (await CallAsync(cluster, """{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"dev","weight":2}]}}""")).Status.Should().Be(HttpStatusCode.OK);
        (await CallAsync(cluster, """{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"dev","limits":{"cpus":{"value":2}}}]}}""")).Status.Should().Be(HttpStatusCode.OK);

        await cluster.RestartMasterAsync();

        var weights = (await CallJsonAsync(cluster, """{"type":"GET_WEIGHTS"}"""))["get_weights"]!["weight_infos"]!.AsArray();
        ((double?)weights.Single()!["weight"]).Should().Be(2);
        var configs = (await CallJsonAsync(cluster, """{"type":"GET_QUOTA"}"""))["get_quota"]!["status"]!["configs"]!.AsArray();
        ((double?)configs.Single()!["limits"]!["cpus"]!["value"]).Should().Be(2);
    }

    public static TheoryData<string, string, string, string?, HttpStatusCode, string> BadRequests => new()
    {
        // Operator API: parsing and the call envelope.
        { "POST", "api/v1", """{"type":""", "application/json", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { "POST", "api/v1", "[]", "application/json", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { "POST", "api/v1", """{"type":"NOT_A_CALL"}""", "application/json", HttpStatusCode.BadRequest, "Unknown MasterCallType value 'NOT_A_CALL'" },
        { "POST", "api/v1", """{"update_weights":{}}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'type' to be present" },
        { "POST", "api/v1", """{"type":"UPDATE_WEIGHTS"}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'update_weights' to be present" },
        { "POST", "api/v1", """{"type":"UPDATE_QUOTA"}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'update_quota' to be present" },
        { "POST", "api/v1", """{"type":"SET_QUOTA","set_quota":{}}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'set_quota.quota_request' to be present" },
        { "POST", "api/v1", """{"type":"REMOVE_QUOTA","remove_quota":{}}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'remove_quota.role' to be present" },
        { "POST", "api/v1", """{"type":"CREATE_VOLUMES","create_volumes":{"agent_id":{"value":"a"}}}""", "application/json", HttpStatusCode.NotImplemented, "CREATE_VOLUMES is not supported by this master yet" },
        { "POST", "api/v1", """{"type":"UNKNOWN"}""", "application/json", HttpStatusCode.NotImplemented, "UNKNOWN is not supported" },
        { "POST", "api/v1", """{"type":"TEARDOWN"}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'teardown.framework_id' to be present" },
        { "POST", "api/v1", """{"type":"TEARDOWN","teardown":{"framework_id":{}}}""", "application/json", HttpStatusCode.BadRequest, "Expecting 'teardown.framework_id' to be present" },
        { "POST", "api/v1", """{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}""", "application/json", HttpStatusCode.BadRequest, "No framework found with ID 'nope'" },
        { "POST", "api/v1", """{"type":"GET_HEALTH"}""", "application/x-protobuf", HttpStatusCode.BadRequest, "Failed to parse body into Call protobuf" },
        { "POST", "api/v1", """{"type":"GET_HEALTH"}""", "text/plain", HttpStatusCode.UnsupportedMediaType, "Content-Type" },
        { "POST", "api/v1", """{"type":"GET_HEALTH"}""", null, HttpStatusCode.UnsupportedMediaType, "Content-Type" },

        // Weights.
        { "POST", "api/v1", Weights("a//b", "1"), "application/json", HttpStatusCode.BadRequest, "Invalid role 'a//b'" },
        { "POST", "api/v1", Weights("-x", "1"), "application/json", HttpStatusCode.BadRequest, "Invalid role '-x'" },
        { "POST", "api/v1", Weights("*", "1"), "application/json", HttpStatusCode.BadRequest, "Invalid role '*'" },
        { "POST", "api/v1", Weights("..", "1"), "application/json", HttpStatusCode.BadRequest, "Invalid role '..'" },
        { "POST", "api/v1", Weights("qa", "-1"), "application/json", HttpStatusCode.BadRequest, "Invalid weight '-1' for role 'qa'" },
        { "POST", "api/v1", Weights("qa", "0"), "application/json", HttpStatusCode.BadRequest, "Invalid weight '0' for role 'qa'" },
        { "POST", "api/v1", Weights("qa", "NaN"), "application/json", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { "POST", "api/v1", Weights("qa", "\"NaN\""), "application/json", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { "PUT", "weights", """[{"role":"ok","weight":1},{"role":"a//b","weight":1}]""", null, HttpStatusCode.BadRequest, "Invalid role 'a//b'" },
        { "PUT", "weights", """[{"role":"qa","weight":-2}]""", null, HttpStatusCode.BadRequest, "Invalid weight '-2' for role 'qa'" },
        { "PUT", "master/weights", """{"role":"qa","weight":2}""", null, HttpStatusCode.BadRequest, "Failed to parse update weights request JSON" },
        { "PUT", "weights", "[{", null, HttpStatusCode.BadRequest, "Failed to parse update weights request JSON" },

        // Quota.
        { "POST", "api/v1", Quota("""{"role":"dev","limits":{"cpus":{"value":-1}}}"""), "application/json", HttpStatusCode.BadRequest, "{'cpus': -1} for role 'dev'" },
        { "POST", "api/v1", Quota("""{"role":"dev","guarantees":{"cpus":{"value":-1}}}"""), "application/json", HttpStatusCode.BadRequest, "Invalid guarantee configuration {'cpus': -1}" },
        { "POST", "api/v1", Quota("""{"role":"dev","limits":{"cpus":{}}}"""), "application/json", HttpStatusCode.BadRequest, "missing 'value'" },
        { "POST", "api/v1", Quota("""{"role":"dev","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":1}}}"""), "application/json", HttpStatusCode.BadRequest, "guarantee cpus:2 is above its limit cpus:1" },
        { "POST", "api/v1", Quota("""{"role":"eng/a","limits":{"cpus":{"value":3}}}"""), "application/json", HttpStatusCode.BadRequest, "role 'eng/a' has limit cpus:3 above the limit cpus:2 of its ancestor 'eng'" },
        { "POST", "api/v1", Quota("""{"role":"ok","limits":{"cpus":{"value":1}}},{"role":"a//b","limits":{"cpus":{"value":1}}}"""), "application/json", HttpStatusCode.BadRequest, "'a//b'" },
        { "POST", "api/v1", Quota("""{"role":"*","limits":{"cpus":{"value":1}}}"""), "application/json", HttpStatusCode.BadRequest, "default '*' role" },
        { "POST", "api/v1", Quota("""{"role":"..","limits":{"cpus":{"value":1}}}"""), "application/json", HttpStatusCode.BadRequest, "'..'" },
        { "POST", "api/v1", Quota("""{"role":"dev","guarantees":{"cpus":{"value":1}}}"""), "application/json", HttpStatusCode.BadRequest, "exceed the cluster capacity" },
        { "POST", "api/v1", Quota("""{"role":"dev","limits":{"ports":{"value":1}}}"""), "application/json", HttpStatusCode.BadRequest, "only scalar resources" },
        { "POST", "api/v1", """{"type":"REMOVE_QUOTA","remove_quota":{"role":"nobody"}}""", "application/json", HttpStatusCode.BadRequest, "Role 'nobody' has no quota set" },
        { "POST", "quota", """{"role":"dev","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}""", null, HttpStatusCode.Conflict, "overcommit" },
        { "POST", "quota", """{"role":"dev","guarantee":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]}""", null, HttpStatusCode.BadRequest, "non-scalar" },
        { "POST", "quota", """{"role":"dev","guarantee":[]}""", null, HttpStatusCode.BadRequest, "empty 'guarantee'" },
        { "POST", "quota", """{"role":"eng","force":true,"guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}""", null, HttpStatusCode.BadRequest, "which already has quota" },
        { "POST", "master/quota", "{", null, HttpStatusCode.BadRequest, "Failed to parse set quota request JSON" },
        { "DELETE", "quota/nobody", "", null, HttpStatusCode.BadRequest, "Role 'nobody' has no quota set" },
        { "DELETE", "quota/-x", "", null, HttpStatusCode.BadRequest, "Invalid role '-x'" },
        { "DELETE", "quota", "", null, HttpStatusCode.BadRequest, "expected '/quota/<role>'" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_refused_with_a_reason_and_changes_nothing(
        string method, string path, string body, string? contentType, HttpStatusCode expected, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var before = await SeedAsync(cluster);

        var (status, text) = await SendAsync(cluster, new HttpMethod(method), path, body, contentType);

        status.Should().Be(expected, text);
        text.Should().Contain(reason);
        (await SnapshotAsync(cluster)).Should().Be(before);
    }

    [Fact]
    public async Task Accept_without_json_gets_406()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var (status, text) = await SendAsync(cluster, HttpMethod.Post, "api/v1", """{"type":"GET_HEALTH"}""", accept: "text/html");
        status.Should().Be(HttpStatusCode.NotAcceptable);
        text.Should().Contain("Accept");
    }

    [Theory]
    [InlineData("POST", "api/v1", "application/json")]
    [InlineData("PUT", "weights", null)]
    [InlineData("POST", "quota", null)]
    public async Task Oversized_bodies_get_413_and_change_nothing(string method, string path, string? contentType)
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false, configureMaster: o => o.MaxRequestBodyBytes = 64 * 1024);
        var before = await SeedAsync(cluster);
        var huge = "[{\"role\":\"big\",\"weight\":1,\"pad\":\"" + new string('x', 256 * 1024) + "\"}]";

        var (status, _) = await SendAsync(cluster, new HttpMethod(method), path, huge, contentType);

        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await SnapshotAsync(cluster)).Should().Be(before);
    }

    private static string Weights(string role, string weight) =>
        $$$"""{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"ok","weight":5},{"role":"{{{role}}}","weight":{{{weight}}}}]}}""";

    private static string Quota(string configs) =>
        $$$"""{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{{{configs}}}]}}""";

    /// <summary>Known weights and quota to compare against after a refused request.</summary>
    private static async Task<string> SeedAsync(InProcessCluster cluster)
    {
        (await CallAsync(cluster, """{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"dev","weight":2}]}}""")).Status.Should().Be(HttpStatusCode.OK);
        (await CallAsync(cluster, Quota("""{"role":"eng","limits":{"cpus":{"value":2}}}"""))).Status.Should().Be(HttpStatusCode.OK);
        return await SnapshotAsync(cluster);
    }

    private static async Task<string> SnapshotAsync(InProcessCluster cluster) =>
        await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "weights")) + "\n"
        + await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "quota")) + "\n"
        + await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "roles"));

    private static async Task<JsonNode> CallJsonAsync(InProcessCluster cluster, string json, string path = "api/v1")
    {
        var (status, body) = await CallAsync(cluster, json, path);
        status.Should().Be(HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    private static Task<(HttpStatusCode Status, string Body)> CallAsync(InProcessCluster cluster, string json, string path = "api/v1") =>
        SendAsync(cluster, HttpMethod.Post, path, json);

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(
        InProcessCluster cluster, HttpMethod method, string path, string? body, string? contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(cluster.MasterUrl, path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
        }

        if (accept is not null)
        {
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        }

        using var response = await cluster.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}

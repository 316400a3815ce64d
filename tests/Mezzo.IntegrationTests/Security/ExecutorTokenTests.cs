using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Security;

/// <summary>
/// --authenticate-http-executors on a real agent: the test executor (a real process) runs with the token the agent
/// gave it, and the executor API refuses calls without it, with a forged one, or for another executor.
/// </summary>
public sealed class ExecutorTokenTests
{
    private static async Task<HttpStatusCode> CallAsync(Uri agent, string frameworkId, string executorId, string? token)
    {
        using var http = new HttpClient();
        var call = new JsonObject
        {
            ["type"] = "MESSAGE",
            ["framework_id"] = new JsonObject { ["value"] = frameworkId },
            ["executor_id"] = new JsonObject { ["value"] = executorId },
            ["message"] = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("from-the-test")) },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(agent, "api/v1/executor"))
        {
            Content = new StringContent(call.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static JsonNode Payload(string token)
    {
        var part = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        return JsonNode.Parse(Convert.FromBase64String(part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=')))!;
    }

    [Fact]
    public async Task An_executor_works_with_its_token_and_no_call_passes_without_it_with_a_forged_one_or_for_another_executor()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: options => options.Security.AuthenticateHttpExecutors = true);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        (await ExecutorTests.LaunchOnExecutorAsync(scheduler, offer, "t1", ExecutorTests.CustomExecutor("exec-a"), "run")).Status.Should().Be(HttpStatusCode.Accepted);
        // Its SUBSCRIBE and UPDATE passed with the token it was given.
        await scheduler.WaitForUpdateAsync("t1", "TASK_RUNNING");

        var agent = cluster.Agent!.Url;
        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(agent, "state")))!;
        var executor = state["frameworks"]![0]!["executors"]!.AsArray().Single(e => (string?)e!["id"] == "exec-a")!;
        var token = (await File.ReadAllLinesAsync(Path.Combine((string)executor["directory"]!, "env.txt")))
            .Single(line => line.StartsWith("MESOS_EXECUTOR_AUTHENTICATION_TOKEN=", StringComparison.Ordinal)).Split('=', 2)[1];
        var frameworkId = scheduler.FrameworkId!;
        var claims = Payload(token);
        ((string?)claims["fid"]).Should().Be(frameworkId);
        ((string?)claims["eid"]).Should().Be("exec-a");
        ((string?)claims["cid"]).Should().Be((string?)executor["container"]);

        (await CallAsync(agent, frameworkId, "exec-a", token)).Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForAsync(
            e => (string?)e["type"] == "MESSAGE" && Encoding.UTF8.GetString(Convert.FromBase64String((string?)e["message"]?["data"] ?? "")) == "from-the-test",
            "the executor's MESSAGE");
        (await CallAsync(agent, frameworkId, "exec-a", null)).Should().Be(HttpStatusCode.Unauthorized);
        (await CallAsync(agent, frameworkId, "exec-b", token)).Should().Be(HttpStatusCode.Forbidden, "exec-a's token may not speak for exec-b");
        (await CallAsync(agent, "another-framework", "exec-a", token)).Should().Be(HttpStatusCode.Forbidden);
        var parts = token.Split('.');
        var forged = $"{parts[0]}.{Base64Url(claims.ToJsonString().Replace("exec-a", "exec-b", StringComparison.Ordinal))}.{parts[2]}";
        (await CallAsync(agent, frameworkId, "exec-b", forged)).Should().Be(HttpStatusCode.Unauthorized, "a changed payload breaks the signature");
        var unsigned = $"{Base64Url("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}.";
        (await CallAsync(agent, frameworkId, "exec-a", unsigned)).Should().Be(HttpStatusCode.Unauthorized, "alg none is not accepted");
        (await CallAsync(agent, frameworkId, "exec-a", "not-a-token")).Should().Be(HttpStatusCode.Unauthorized);
    }
}

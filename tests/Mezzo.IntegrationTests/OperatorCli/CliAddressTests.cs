using System.Net;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;

namespace Mezzo.IntegrationTests.OperatorCli;

/// <summary>
/// How client verbs find the cluster (--master, MEZZO_MASTER, config file; the same for services and jobs), follow a
/// standby's redirect, and the exit codes of what goes wrong on the way.
/// </summary>
public sealed class CliAddressTests
{
    private static async Task<string> PidAsync(InProcessCluster cluster) => (string)(await cluster.StateAsync())["pid"]!;

    private static string Pid(CliRun.Result result)
    {
        result.Exit.Should().Be(0, result.ToString());
        return (string)JsonNode.Parse(result.Stdout)!["pid"]!;
    }

    [Fact]
    public async Task The_master_comes_from_the_flag_then_MEZZO_MASTER_then_the_config_file()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        using var dir = new TempDir();
        var pid = await PidAsync(cluster);
        var good = cluster.MasterUrl.ToString();
        const string dead = "http://127.0.0.1:1";

        Pid(await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_MASTER"] = cluster.MasterAddress }, "state", "--json")).Should().Be(pid);
        Pid(await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_MASTER"] = dead }, "state", "--json", "--master", good)).Should().Be(pid);

        var config = Path.Combine(dir.Path, "mezzo.json");
        await File.WriteAllTextAsync(config, $$"""{"master": "{{good}}"}""");
        Pid(await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config }, "state", "--json")).Should().Be(pid);
        var overridden = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config, ["MEZZO_MASTER"] = dead }, "state", "--json");
        overridden.Exit.Should().Be(3, overridden.ToString());
        overridden.Stderr.Should().Contain("Cannot reach the master at http://127.0.0.1:1/ (from MEZZO_MASTER)");

        // The default location: $XDG_CONFIG_HOME/mezzo/config.json.
        Directory.CreateDirectory(Path.Combine(dir.Path, "xdg", "mezzo"));
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "xdg", "mezzo", "config.json"), $$"""{"master": "{{cluster.MasterAddress}}", "jobs": "http://127.0.0.1:1"}""");
        Pid(await CliRun.RunAsync(new Dictionary<string, string> { ["XDG_CONFIG_HOME"] = Path.Combine(dir.Path, "xdg") }, "state", "--json")).Should().Be(pid);

        // A list (as an agent's MEZZO_MASTER may hold) is tried in order.
        Pid(await CliRun.RunAsync("state", "--json", "--master", $"127.0.0.1:1,{cluster.MasterAddress}")).Should().Be(pid);
    }

    [Theory]
    [InlineData("""{"master": 5050}""", "'master' must be a non-empty string")]
    [InlineData("""{"master": """, "not valid JSON")]
    [InlineData("""["http://127.0.0.1:5050"]""", "expected a JSON object")]
    [InlineData("""{"master": "etcd://127.0.0.1:2379"}""", "the CLI needs a master URL")]
    [InlineData("""{"master": "ftp://host"}""", "is not a URL")]
    public async Task A_bad_config_file_is_a_usage_error_naming_the_file(string content, string message)
    {
        using var dir = new TempDir();
        var config = Path.Combine(dir.Path, "config.json");
        await File.WriteAllTextAsync(config, content);

        var result = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config }, "agent", "list");

        result.Exit.Should().Be(2, result.ToString());
        result.Stderr.Should().Contain(config).And.Contain(message);
        result.Stdout.Should().BeEmpty();
    }

    [Theory]
    [InlineData(new[] { "agent", "list", "--master", "http://127.0.0.1:1" }, 3, "Cannot reach the master at http://127.0.0.1:1/ (from --master)")]
    [InlineData(new[] { "task", "list", "--master", "127.0.0.1:1" }, 3, "Connection refused")]
    [InlineData(new[] { "state", "--master", "http://" }, 2, "--master: 'http://' is not a URL")]
    [InlineData(new[] { "framework", "list", "--master", "zk://127.0.0.1:2181/mesos" }, 2, "the CLI needs a master URL")]
    [InlineData(new[] { "agent", "show" }, 2, "Required argument missing")]
    [InlineData(new[] { "agent", "lst" }, 2, "Unrecognized command or argument 'lst'")]
    [InlineData(new[] { "task", "log", "x", "--follow", "--tail" }, 2, "Unrecognized command or argument '--tail'")]
    [InlineData(new[] { "quota", "remove" }, 2, "Required argument missing")]
    [InlineData(new[] { "app", "list", "--services", "http://127.0.0.1:1" }, 3, "Cannot reach the services API at http://127.0.0.1:1/")]
    [InlineData(new[] { "job", "list", "--jobs", "http://127.0.0.1:1" }, 3, "Cannot reach the jobs service at http://127.0.0.1:1/")]
    [InlineData(new[] { "job", "list", "--jobs", "not a url" }, 2, "'not a url' is not a URL")]
    public async Task Failures_exit_with_the_documented_code_and_a_message_on_stderr(string[] args, int exit, string message)
    {
        var result = await CliRun.RunAsync(args);

        result.Exit.Should().Be(exit, result.ToString());
        result.Stderr.Should().Contain(message);
    }

    [Fact]
    public async Task MEZZO_MASTER_with_an_unreachable_master_exits_3_naming_where_the_address_came_from()
    {
        var result = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_MASTER"] = "127.0.0.1:1" }, "state");

        result.Exit.Should().Be(3);
        result.Stderr.Should().Contain("Cannot reach the master at http://127.0.0.1:1/ (from MEZZO_MASTER)");
    }

    [Fact]
    public async Task A_standby_masters_redirect_is_followed_to_the_leader()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var leader = cluster.MasterUrl;
        // Redirects the way a Mezzo/Mesos standby does: scheme-relative, the leader plus the request's path.
        using var standby = new FakeMaster(request => (HttpStatusCode.TemporaryRedirect, $"//127.0.0.1:{leader.Port}{request.Url!.PathAndQuery}", null));

        var agents = await CliRun.RunAsync("agent", "list", "--json", "--master", standby.Url);
        agents.Exit.Should().Be(0, agents.ToString());
        JsonNode.Parse(agents.Stdout)!.AsArray().Should().ContainSingle();
        Pid(await CliRun.RunAsync("state", "--json", "--master", standby.Url)).Should().Be(await PidAsync(cluster));
        (await CliRun.RunAsync("quota", "set", "dev", "--cpus", "1", "--master", standby.Url)).Exit.Should().Be(0);
        (await cluster.PostJsonAsync("""{"type":"GET_QUOTA"}""")).Body.Should().Contain("\"dev\"");
        standby.Requests.Should().BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task A_standbys_own_state_names_the_leader_whose_state_is_printed()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var port = cluster.MasterUrl.Port;
        var address = new JsonObject { ["hostname"] = "127.0.0.1", ["ip"] = "127.0.0.1", ["port"] = port };
        var standbyState = new JsonObject
        {
            ["pid"] = "master@127.0.0.1:1",
            ["leader"] = $"master@127.0.0.1:{port}",
            ["slaves"] = new JsonArray(),
            ["leader_info"] = new JsonObject { ["id"] = "x", ["port"] = port, ["address"] = address },
        }.ToJsonString();
        using var standby = new FakeMaster(_ => (HttpStatusCode.OK, null, standbyState));

        Pid(await CliRun.RunAsync("state", "--json", "--master", standby.Url)).Should().Be(await PidAsync(cluster));
    }

    [Fact]
    public async Task A_redirect_loop_and_a_refusal_exit_1()
    {
        using var looping = new FakeMaster(request => (HttpStatusCode.TemporaryRedirect, request.Url!.PathAndQuery, null));
        var loop = await CliRun.RunAsync("agent", "list", "--master", looping.Url);
        loop.Exit.Should().Be(1, loop.ToString());
        loop.Stderr.Should().Contain("redirected more than 5 times");

        using var electing = new FakeMaster(_ => (HttpStatusCode.ServiceUnavailable, null, "No master is currently leading; retry shortly"));
        var unavailable = await CliRun.RunAsync("framework", "list", "--master", electing.Url);
        unavailable.Exit.Should().Be(1, unavailable.ToString());
        unavailable.Stderr.Should().Contain("503 Service Unavailable: No master is currently leading; retry shortly");
    }

    [Fact]
    public async Task Job_and_app_verbs_take_their_endpoints_from_the_environment_and_the_config_file()
    {
        using var dir = new TempDir();
        await using var server = JobsServer.Create(new JobsOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", WorkDir = Path.Combine(dir.Path, "jobs") }, connect: false);
        await server.StartAsync();
        var job = Path.Combine(dir.Path, "job.json");
        await File.WriteAllTextAsync(job, """{"name": "nightly", "command": "date", "schedule": "R/2030-01-01T02:30:00Z/P1D"}""");

        var added = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_JOBS"] = server.Url.ToString() }, "job", "add", job);
        added.Exit.Should().Be(0, added.ToString());

        var config = Path.Combine(dir.Path, "config.json");
        await File.WriteAllTextAsync(config, $$"""{"jobs": "{{server.Url}}", "services": "http://127.0.0.1:1"}""");
        var listed = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config }, "job", "list");
        listed.Exit.Should().Be(0, listed.ToString());
        listed.Stdout.Should().Contain("nightly");

        var apps = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config }, "app", "list");
        apps.Exit.Should().Be(3, apps.ToString());
        apps.Stderr.Should().Contain("Cannot reach the services API at http://127.0.0.1:1/");
    }

    /// <summary>An HTTP server answering every request with what the test says (a standby, an electing master).</summary>
    internal sealed class FakeMaster : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private int _requests;

        public FakeMaster(Func<HttpListenerRequest, (HttpStatusCode Status, string? Location, string? Body)> answer)
        {
            var port = Ports.Free();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _requests);
                    var (status, location, body) = answer(context.Request);
                    context.Response.StatusCode = (int)status;
                    if (location is not null)
                    {
                        context.Response.Headers["Location"] = location;
                    }

                    var bytes = System.Text.Encoding.UTF8.GetBytes(body ?? "");
                    context.Response.ContentLength64 = bytes.Length;
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}

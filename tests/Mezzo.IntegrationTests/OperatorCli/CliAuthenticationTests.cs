using System.Net;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.OperatorCli;

/// <summary>
/// The client verbs log in to a master that authenticates: --principal/--secret-file, MEZZO_PRINCIPAL/MEZZO_SECRET or
/// the config file; 401 and 403 exit 1 with a message that says what to do, and the secret never shows.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CliAuthenticationTests
{
    private const string OperatorSecret = "s3cret-operator-7f1c";
    private const string NobodySecret = "s3cret-nobody-29ab";

    private static Task<InProcessCluster> SecureMasterAsync() => InProcessCluster.StartAsync(
        configureMaster: m => m.Security = new Hosting.Security.SecurityOptions
        {
            Credentials = [new Credential("operator", OperatorSecret), new Credential("nobody", NobodySecret)],
            AuthenticateHttpReadonly = true,
            AuthenticateHttpReadwrite = true,
            AuthenticateFrameworks = true,
            AuthenticateAgents = true,
            Acls = OperatorMayDoEverything(),
        },
        withAgent: false);

    /// <summary>permissive false: the operator may do everything, 'nobody' nothing.</summary>
    private static Acls OperatorMayDoEverything()
    {
        var acls = new JsonObject { ["permissive"] = false };
        foreach (var action in Enum.GetValues<AclAction>())
        {
            acls[AclActions.Key(action)] = new JsonArray(new JsonObject
            {
                ["principals"] = new JsonObject { ["values"] = new JsonArray("operator") },
                [AclActions.ObjectField(action)] = new JsonObject { ["type"] = "ANY" },
            });
        }

        return Acls.Parse(acls.ToJsonString());
    }

    private static string SecretFile(TempDir dir, string secret, string name = "secret")
    {
        var path = Path.Combine(dir.Path, name);
        File.WriteAllText(path, secret + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static string Pid(CliRun.Result result)
    {
        result.Exit.Should().Be(0, result.ToString());
        return (string)JsonNode.Parse(result.Stdout)!["pid"]!;
    }

    private static void NeverShowsASecret(CliRun.Result result)
    {
        result.Stdout.Should().NotContain(OperatorSecret).And.NotContain(NobodySecret).And.NotContain("wrong-secret");
        result.Stderr.Should().NotContain(OperatorSecret).And.NotContain(NobodySecret).And.NotContain("wrong-secret");
    }

    [Fact]
    public async Task Without_credentials_a_verb_exits_1_saying_how_to_log_in()
    {
        await using var cluster = await SecureMasterAsync();

        foreach (var verb in (string[][])[["state"], ["agent", "list"], ["framework", "list"], ["role", "list"], ["quota", "list"], ["task", "list"]])
        {
            var result = await CliRun.RunAsync([.. verb, "--master", cluster.MasterUrl.ToString()]);
            result.Exit.Should().Be(1, result.ToString());
            result.Stderr.Should().StartWith("authentication failed: the master requires credentials and none were given")
                .And.Contain("use --principal/--secret-file or MEZZO_PRINCIPAL/MEZZO_SECRET");
            result.Stdout.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task The_credential_comes_from_the_flags_then_the_environment_then_the_config_file()
    {
        await using var cluster = await SecureMasterAsync();
        using var dir = new TempDir();
        var pid = (string)JsonNode.Parse(await GetStateAsync(cluster))!["pid"]!;
        var master = cluster.MasterUrl.ToString();
        var secret = SecretFile(dir, OperatorSecret);
        var wrong = SecretFile(dir, "wrong-secret", "wrong");

        Pid(await CliRun.RunAsync("state", "--json", "--master", master, "--principal", "operator", "--secret-file", secret)).Should().Be(pid);
        var environment = new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = "operator", ["MEZZO_SECRET"] = OperatorSecret };
        Pid(await CliRun.RunAsync(environment, "state", "--json", "--master", master)).Should().Be(pid);
        var agents = await CliRun.RunAsync(environment, "agent", "list", "--json", "--master", master);
        agents.Exit.Should().Be(0, agents.ToString());
        var quota = await CliRun.RunAsync(environment, "quota", "set", "dev", "--cpus", "1", "--force", "--master", master);
        quota.Exit.Should().Be(0, quota.ToString());

        // The flags win over the environment: a wrong secret on the command line is what is sent.
        var flagWins = await CliRun.RunAsync(environment, "state", "--master", master, "--principal", "operator", "--secret-file", wrong);
        flagWins.Exit.Should().Be(1, flagWins.ToString());
        flagWins.Stderr.Should().Contain("authentication failed: the master refused principal 'operator' (from --principal/--secret-file)");
        NeverShowsASecret(flagWins);

        // The config file: principal plus a secret_file relative to the config file.
        var config = Path.Combine(dir.Path, "config.json");
        await File.WriteAllTextAsync(config, $$"""{"master": "{{master}}", "principal": "operator", "secret_file": "secret"}""");
        Pid(await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config }, "state", "--json")).Should().Be(pid);
        var envWins = await CliRun.RunAsync(
            new Dictionary<string, string> { ["MEZZO_CONFIG"] = config, ["MEZZO_PRINCIPAL"] = "operator", ["MEZZO_SECRET"] = "wrong-secret" }, "state");
        envWins.Exit.Should().Be(1, envWins.ToString());
        envWins.Stderr.Should().Contain("refused principal 'operator' (from MEZZO_PRINCIPAL/MEZZO_SECRET)");
        NeverShowsASecret(envWins);
    }

    private static async Task<string> GetStateAsync(InProcessCluster cluster)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.MasterUrl, "master/state"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:" + OperatorSecret)));
        using var response = await cluster.Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_principal_the_ACLs_do_not_allow_exits_1_with_the_masters_reason()
    {
        await using var cluster = await SecureMasterAsync();
        var environment = new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = "nobody", ["MEZZO_SECRET"] = NobodySecret };

        var result = await CliRun.RunAsync(environment, "state", "--master", cluster.MasterUrl.ToString());

        result.Exit.Should().Be(1, result.ToString());
        result.Stderr.Should().StartWith("403 Forbidden for principal 'nobody' (from MEZZO_PRINCIPAL/MEZZO_SECRET): Forbidden: principal 'nobody' may not use /master/state");
        NeverShowsASecret(result);
    }

    [Theory]
    [InlineData(new[] { "--principal", "operator" }, "--principal 'operator' needs --secret-file FILE")]
    [InlineData(new[] { "--secret-file", "/etc/hostname" }, "--secret-file needs --principal")]
    [InlineData(new[] { "--principal", "operator", "--secret-file", "/no/such/secret" }, "--secret-file /no/such/secret:")]
    public async Task Half_a_credential_or_a_missing_file_is_a_usage_error(string[] flags, string message)
    {
        var result = await CliRun.RunAsync(["state", "--master", "http://127.0.0.1:1", .. flags]);

        result.Exit.Should().Be(2, result.ToString());
        result.Stderr.Should().Contain(message);
    }

    [Fact]
    public async Task A_secret_file_others_may_read_is_refused_before_anything_is_sent()
    {
        using var dir = new TempDir();
        var secret = SecretFile(dir, OperatorSecret);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var master = new CliAddressTests.FakeMaster(_ => (HttpStatusCode.OK, null, "{}"));

        var result = await CliRun.RunAsync("state", "--master", master.Url, "--principal", "operator", "--secret-file", secret);

        result.Exit.Should().Be(2, result.ToString());
        result.Stderr.Should().Contain($"chmod 600 {secret}");
        master.Requests.Should().Be(0);
        NeverShowsASecret(result);

        var config = Path.Combine(dir.Path, "config.json");
        await File.WriteAllTextAsync(config, """{"principal": "operator"}""");
        var half = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_CONFIG"] = config }, "state", "--master", master.Url);
        half.Exit.Should().Be(2, half.ToString());
        half.Stderr.Should().Contain($"{config}: 'principal' and 'secret_file' go together");
        var halfEnvironment = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_SECRET"] = OperatorSecret }, "state", "--master", master.Url);
        halfEnvironment.Exit.Should().Be(2, halfEnvironment.ToString());
        halfEnvironment.Stderr.Should().Contain("MEZZO_SECRET is set but MEZZO_PRINCIPAL is not");
        NeverShowsASecret(halfEnvironment);
    }

    [Fact]
    public async Task The_credential_follows_a_standbys_redirect_on_the_same_host_only()
    {
        await using var cluster = await SecureMasterAsync();
        var port = cluster.MasterUrl.Port;
        var environment = new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = "operator", ["MEZZO_SECRET"] = OperatorSecret };
        var sawLogin = 0;
        using var standby = new CliAddressTests.FakeMaster(request =>
        {
            if (request.Headers["Authorization"] is not null)
            {
                Interlocked.Increment(ref sawLogin);
            }

            return (HttpStatusCode.TemporaryRedirect, $"//127.0.0.1:{port}{request.Url!.PathAndQuery}", null);
        });

        var followed = await CliRun.RunAsync(environment, "agent", "list", "--json", "--master", standby.Url);
        followed.Exit.Should().Be(0, followed.ToString());
        Volatile.Read(ref sawLogin).Should().BeGreaterThan(0, "the standby is the host the user named");

        // "localhost" is another host name than the 127.0.0.1 the user named: the secret is not sent there.
        using var elsewhere = new CliAddressTests.FakeMaster(request => (HttpStatusCode.TemporaryRedirect, $"//localhost:{port}{request.Url!.PathAndQuery}", null));
        var refused = await CliRun.RunAsync(environment, "agent", "list", "--master", elsewhere.Url);
        refused.Exit.Should().Be(1, refused.ToString());
        refused.Stderr.Should().Contain($"authentication failed: principal 'operator' (from MEZZO_PRINCIPAL/MEZZO_SECRET) was not sent to localhost:{port}, a host other than the one configured");
        NeverShowsASecret(refused);
    }

    [Theory]
    [InlineData("app", "--services", "/v2/apps", """{"apps": []}""", "services API")]
    [InlineData("job", "--jobs", "/v1/scheduler/jobs", "[]", "jobs service")]
    public async Task App_and_job_verbs_log_in_to_services_and_jobs_too(string verb, string flag, string path, string body, string what)
    {
        using var dir = new TempDir();
        var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("operator:" + OperatorSecret));
        using var server = new CliAddressTests.FakeMaster(request =>
            request.Headers["Authorization"] != expected ? (HttpStatusCode.Unauthorized, null, "login required")
            : request.Url!.AbsolutePath == path ? (HttpStatusCode.OK, null, body)
            : (HttpStatusCode.NotFound, null, "no such path"));

        var listed = await CliRun.RunAsync(verb, "list", flag, server.Url, "--principal", "operator", "--secret-file", SecretFile(dir, OperatorSecret));
        listed.Exit.Should().Be(0, listed.ToString());

        var anonymous = await CliRun.RunAsync(verb, "list", flag, server.Url);
        anonymous.Exit.Should().Be(1, anonymous.ToString());
        anonymous.Stderr.Should().Contain($"authentication failed: the {what}").And.Contain("requires credentials and none were given")
            .And.Contain("use --principal/--secret-file or MEZZO_PRINCIPAL/MEZZO_SECRET");

        var wrong = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = "operator", ["MEZZO_SECRET"] = "wrong-secret" }, verb, "list", flag, server.Url);
        wrong.Exit.Should().Be(1, wrong.ToString());
        wrong.Stderr.Should().Contain("authentication failed").And.Contain("refused");
        NeverShowsASecret(wrong);
    }

    [Fact]
    public async Task Help_lists_the_login_flags_and_never_a_secret()
    {
        var environment = new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = "operator", ["MEZZO_SECRET"] = OperatorSecret };
        foreach (var verb in (string[][])[["state"], ["agent", "list"], ["task", "kill"], ["quota", "set"], ["execute"], ["app", "list"], ["job", "add"]])
        {
            var help = await CliRun.RunAsync(environment, [.. verb, "--help"]);
            help.Exit.Should().Be(0, help.ToString());
            help.Stdout.Should().Contain("--principal <name>").And.Contain("--secret-file <file>").And.Contain("MEZZO_SECRET");
            NeverShowsASecret(help);
        }
    }
}

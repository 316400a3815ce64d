using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Security;

/// <summary><c>mezzo dev --secure</c>: one command, a cluster where everything needs a login, and the login printed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class DevSecureTests
{
    [GeneratedRegex(@"master\s+(http://\S+)")]
    private static partial Regex MasterLine();

    [GeneratedRegex(@"export MEZZO_PRINCIPAL=(\S+) MEZZO_SECRET=\$\(cat (\S+)\)")]
    private static partial Regex ExportLine();

    private static AuthenticationHeaderValue Basic(string principal, string secret) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{principal}:{secret}")));

    [Fact]
    public async Task Dev_secure_needs_the_printed_operator_login_everywhere_and_the_CLI_and_execute_use_it()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--secure", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0",
            "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048");
        var export = await Poll.UntilAsync(
            () => Task.FromResult(ExportLine().Match(dev.Output) is { Success: true } m ? m : null),
            "mezzo dev --secure to print the operator's login");
        var login = (Principal: export.Groups[1].Value, SecretFile: export.Groups[2].Value);
        var master = new Uri(MasterLine().Match(dev.Output).Groups[1].Value);
        login.Principal.Should().Be("operator");
        var security = Path.Combine(dir.Path, "security");
        login.SecretFile.Should().Be(Path.Combine(security, "operator.secret"));
        foreach (var file in (string[])["credentials.json", "operator.secret", "acls.json"])
        {
            File.GetUnixFileMode(Path.Combine(security, file)).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, file);
        }

        var secret = (await File.ReadAllTextAsync(login.SecretFile)).Trim();
        secret.Should().MatchRegex("^[0-9a-f]{48}$");
        var credentials = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(security, "credentials.json")))!["credentials"]!.AsArray();
        credentials.Select(c => (string?)c!["principal"]).Should().Equal("operator", "agent", "services", "jobs");
        credentials.Select(c => (string?)c!["secret"]).Should().OnlyHaveUniqueItems();
        dev.Output.Should().NotContain(secret);

        using var http = new HttpClient();
        using (var anonymous = await http.GetAsync(new Uri(master, "master/state")))
        {
            anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            anonymous.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"mezzo\"");
        }

        // The agent, services and jobs log in with their own principals; the operator sees them all.
        await Poll.UntilAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(master, "master/state"));
            request.Headers.Authorization = Basic("operator", secret);
            using var response = await http.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            var state = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            return state["slaves"]!.AsArray().Count == 1 && state["frameworks"]!.AsArray().Count == 2;
        }, "the agent, services and jobs to register with their credentials");

        var environment = new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = login.Principal, ["MEZZO_SECRET"] = secret };
        var state = await CliRun.RunAsync(environment, "state", "--master", master.ToString());
        state.Exit.Should().Be(0, state.ToString());
        state.Stdout.Should().MatchRegex(@"AGENTS\s+1 active").And.MatchRegex(@"FRAMEWORKS\s+2 registered");

        var anonymousCli = await CliRun.RunAsync("state", "--master", master.ToString());
        anonymousCli.Exit.Should().Be(1, anonymousCli.ToString());
        anonymousCli.Stderr.Should().Contain("authentication failed");

        // The agent's principal may register agents and nothing else: permissive false is in force.
        var agentSecret = (string)credentials.First(c => (string?)c!["principal"] == "agent")!["secret"]!;
        var agentCli = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_PRINCIPAL"] = "agent", ["MEZZO_SECRET"] = agentSecret }, "state", "--master", master.ToString());
        agentCli.Exit.Should().Be(1, agentCli.ToString());
        agentCli.Stderr.Should().StartWith("403 Forbidden for principal 'agent'");

        await using (var hello = MezzoProcess.Start(environment, "execute", "--master", $"127.0.0.1:{master.Port}", "--name", "hello-secure", "--command", "echo hi-secure"))
        {
            (await hello.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, hello.Output);
            hello.Output.Should().Contain("hi-secure\n").And.Contain("TASK_FINISHED");
        }

        await using (var refused = MezzoProcess.Start("execute", "--master", $"127.0.0.1:{master.Port}", "--name", "anonymous", "--command", "echo no"))
        {
            (await refused.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(1, refused.Output);
            refused.Output.Should().Contain("authentication failed: the master requires credentials and none were given");
        }
    }

    [Fact]
    public async Task Dev_secure_keeps_its_secrets_across_restarts_and_refuses_a_credentials_file_without_its_principals()
    {
        using var dir = new TempDir();
        var security = Path.Combine(dir.Path, "security");
        Directory.CreateDirectory(security);
        var credentials = Path.Combine(security, "credentials.json");
        await File.WriteAllTextAsync(credentials, """{"credentials": [{"principal": "operator", "secret": "only-the-operator"}]}""");
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        await using (var dev = MezzoProcess.Start("dev", "--secure", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path))
        {
            (await dev.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(1, dev.Output);
            dev.Output.Should().Contain($"--secure: {credentials}: has no principal 'agent'").And.NotContain("only-the-operator");
        }

        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        await using (var dev = MezzoProcess.Start("dev", "--secure", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path))
        {
            (await dev.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(1, dev.Output);
            dev.Output.Should().Contain($"chmod 600 {credentials}").And.NotContain("only-the-operator");
        }

        File.Delete(credentials);
        string? first = null;
        for (var run = 0; run < 2; run++)
        {
            await using var dev = MezzoProcess.Start("dev", "--secure", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path, "--resources", "cpus:1;mem:512");
            await Poll.UntilAsync(() => Task.FromResult(ExportLine().IsMatch(dev.Output)), "mezzo dev --secure to come up");
            var secret = (await File.ReadAllTextAsync(Path.Combine(security, "operator.secret"))).Trim();
            first ??= secret;
            secret.Should().Be(first, "a restart keeps the secrets the user exported");
        }
    }
}

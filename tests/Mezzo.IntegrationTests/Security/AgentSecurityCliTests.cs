using System.Net;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Security;

/// <summary>'mezzo agent' security flags: secret files refused with exit 1 and a message, and the flags reach the agent.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class AgentSecurityCliTests
{
    private static string Write(TempDir dir, string name, string text, UnixFileMode mode)
    {
        var path = Path.Combine(dir.Path, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static async Task<string> FailsAsync(params string[] args)
    {
        await using var process = MezzoProcess.Start(args);
        (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(1);
        process.Output.Should().NotContain("   at ", "a bad secret file is a message, not a stack trace");
        return process.Output;
    }

    [Fact]
    public async Task Secret_files_others_may_read_or_that_do_not_parse_stop_the_agent_with_exit_1_and_the_reason()
    {
        using var dir = new TempDir();
        string[] agent = ["agent", "--master", "127.0.0.1:1", "--port", "0", "--work-dir", Path.Combine(dir.Path, "work")];
        var readable = Write(dir, "readable.json", """{"credentials":[{"principal":"ops","secret":"Sup3r-s3cret"}]}""", Private | UnixFileMode.OtherRead);
        var output = await FailsAsync([.. agent, "--credentials", readable]);
        output.Should().Contain($"--credentials {readable}").And.Contain("chmod 600").And.NotContain("Sup3r-s3cret");

        var credential = Write(dir, "credential", "agent-1 s3cret", Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        (await FailsAsync([.. agent, "--credential", credential])).Should().Contain($"--credential {credential}").And.Contain("chmod 600");

        (await FailsAsync([.. agent, "--acls", """{"permissive": "maybe"}"""])).Should().Contain("--acls");
        (await FailsAsync([.. agent, "--credentials", Path.Combine(dir.Path, "missing.json")])).Should().Contain("missing.json");
        (await FailsAsync([.. agent, "--authenticate-http-readonly"])).Should().Contain("--authenticate-http-readonly needs --credentials");
    }

    [Fact]
    public async Task The_agents_credentials_and_authentication_flags_reach_its_endpoints()
    {
        using var dir = new TempDir();
        var credentials = Write(dir, "credentials", "ops ops-secret", Private);
        await using var agent = MezzoProcess.Start("agent", "--master", "127.0.0.1:1", "--port", "0", "--work-dir", Path.Combine(dir.Path, "work"),
            "--credentials", credentials, "--authenticate-http-readonly", "--acls", """{"permissive": false}""");
        var url = await agent.WaitForUrlAsync();
        using var http = new HttpClient();

        (await http.GetAsync(new Uri(url, "state"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, "state")) { Headers = { Authorization = Security.EndpointSweep.Basic("ops", "ops-secret") } };
        (await http.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.Forbidden, "the ACLs allow ops nothing");
        (await http.GetAsync(new Uri(url, "health"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

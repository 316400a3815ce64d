using System.Net;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Security;

/// <summary>The security flags of <c>mezzo services</c> and <c>mezzo jobs</c>, through the real command line.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FrameworkSecurityFlagsTests
{
    [Theory]
    [InlineData("services", "/v2/apps")]
    [InlineData("jobs", "/v1/scheduler/jobs")]
    public async Task With_credentials_and_the_switches_on_the_api_requires_them(string command, string path)
    {
        using var dir = new TempDir();
        var credentials = Protected(dir, "credentials.json", """{"credentials": [{"principal": "ops", "secret": "ops-secret"}]}""");
        var acls = Path.Combine(dir.Path, "acls.json");
        await File.WriteAllTextAsync(acls, """{"permissive": false, "view_app_groups": [{"principals": {"values": ["ops"]}, "paths": {"type": "ANY"}}], "view_jobs": [{"principals": {"values": ["ops"]}, "jobs": {"type": "ANY"}}]}""",
            TestContext.Current.CancellationToken);
        await using var process = MezzoProcess.Start(command, "--master", "127.0.0.1:1", "--port", "0", "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "work"),
            "--credentials", credentials, "--authenticate-http-readonly", "--authenticate-http-readwrite", "--acls", acls);
        var url = await process.WaitForUrlAsync();
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };

        (await http.GetAsync(path, TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = EndpointSweep.Basic("ops", "ops-secret") } };
        (await http.SendAsync(request, TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
        process.Output.Should().NotContain("ops-secret");
    }

    [Theory]
    [InlineData("services")]
    [InlineData("jobs")]
    public async Task Bad_security_flags_stop_the_command_with_a_message_naming_them(string command)
    {
        using var dir = new TempDir();
        var readable = Path.Combine(dir.Path, "readable.json");
        await File.WriteAllTextAsync(readable, """{"credentials": [{"principal": "ops", "secret": "leaked-secret"}]}""", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(readable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var secret = Path.Combine(dir.Path, "secret");
        await File.WriteAllTextAsync(secret, "framework-secret", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.OtherRead);
        var cases = new (string[] Flags, string Message)[]
        {
            (["--credentials", readable], $"--credentials {readable}: the file is readable or writable by every user"),
            (["--authenticate-http-readonly"], "--authenticate-http-readonly needs --credentials"),
            (["--acls", """{"permissive": "no"}"""], "'permissive' must be true or false"),
            (["--mesos-authentication-principal", "fw"], "--mesos-authentication-principal needs --mesos-authentication-secret-file"),
            (["--mesos-authentication-principal", "fw", "--mesos-authentication-secret-file", secret], $"--mesos-authentication-secret-file {secret}: the file is readable"),
            (["--mesos-authentication-secret-file", Protected(dir, "other", "x")], "--mesos-authentication-secret-file needs --mesos-authentication-principal"),
        };
        foreach (var (flags, message) in cases)
        {
            await using var process = MezzoProcess.Start([command, "--master", "127.0.0.1:1", "--port", "0", "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "work"), .. flags]);
            (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(1, string.Join(" ", flags));
            process.Output.Should().Contain($"Cannot start mezzo {command}: ").And.Contain(message).And.NotContain("leaked-secret").And.NotContain("framework-secret")
                .And.NotContain("   at ", "a bad flag is a message, not a stack trace");
        }
    }

    private static string Protected(TempDir dir, string name, string text)
    {
        var path = Path.Combine(dir.Path, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Security;

/// <summary><c>mezzo master</c>'s security flags on the real binary: bad files stop it with a message, good ones protect it.</summary>
public sealed class MasterSecurityCliTests
{
    private static async Task<string> WriteAsync(TempDir dir, string name, string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(dir.Path, name);
        await File.WriteAllTextAsync(path, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }

        return path;
    }

    private static async Task<(int Code, string Output)> RunMasterAsync(TempDir dir, params string[] flags)
    {
        await using var master = MezzoProcess.Start(["master", "--port", "0", "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "work"), .. flags]);
        var code = await master.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, master.Output);
    }

    [Fact]
    public async Task A_credentials_file_other_users_may_read_is_refused()
    {
        using var dir = new TempDir();
        var path = await WriteAsync(dir, "credentials", "ops topsecret\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (code, output) = await RunMasterAsync(dir, "--credentials", path);

        code.Should().Be(1);
        output.Should().Contain($"--credentials {path}: the file is readable or writable by every user (mode 644)").And.Contain($"chmod 600 {path}");
        output.Should().NotContain("topsecret").And.NotContain("   at ", "a bad file is a message, not a stack trace");
    }

    [Theory]
    [InlineData("{\"credentials\": [", "The credentials file is not valid JSON")]
    [InlineData("ops topsecret extra\n", "Line 1 of the credentials file must be 'principal secret' (3 words found)")]
    [InlineData("{\"credentials\": []}", "The credentials file names no credentials")]
    public async Task A_bad_credentials_file_stops_the_master_naming_it(string text, string message)
    {
        using var dir = new TempDir();
        var path = await WriteAsync(dir, "credentials", text);

        var (code, output) = await RunMasterAsync(dir, "--credentials", path);

        code.Should().Be(1);
        output.Should().Contain($"--credentials {path}: {message}").And.NotContain("topsecret");
    }

    [Fact]
    public async Task A_missing_credentials_file_stops_the_master()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope.json");

        var (code, output) = await RunMasterAsync(dir, "--credentials", missing);

        code.Should().Be(1);
        output.Should().Contain($"--credentials {missing}:");
    }

    [Theory]
    [InlineData("{\"permissive\": 1}", "--acls (inline JSON): ACLs: 'permissive' must be true or false, not a number")]
    [InlineData("{\"register_frameworks\": [{\"principals\": {\"type\": \"ANY\"}}]}", "--acls (inline JSON): ACLs: register_frameworks[0] lacks 'roles'")]
    public async Task Bad_acls_stop_the_master_naming_the_entry(string acls, string message)
    {
        using var dir = new TempDir();

        var (code, output) = await RunMasterAsync(dir, "--acls", acls);

        code.Should().Be(1);
        output.Should().Contain(message);
    }

    [Fact]
    public async Task A_bad_acls_file_is_named()
    {
        using var dir = new TempDir();
        var path = await WriteAsync(dir, "acls.json", "[]");

        var (code, output) = await RunMasterAsync(dir, "--acls", path);

        code.Should().Be(1);
        output.Should().Contain($"--acls {path}: ACLs must be a JSON object, not an array");
    }

    [Fact]
    public async Task Authentication_without_credentials_is_refused()
    {
        using var dir = new TempDir();

        var (code, output) = await RunMasterAsync(dir, "--authenticate-frameworks");

        code.Should().Be(1);
        output.Should().Contain("--authenticate-frameworks needs --credentials");
    }

    [Fact]
    public async Task Help_lists_the_security_flags()
    {
        await using var help = MezzoProcess.Start("master", "--help");
        (await help.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0);
        foreach (var flag in new[] { "--credentials", "--authenticate-frameworks", "--authenticate-agents", "--authenticate-http-readonly", "--authenticate-http-readwrite", "--acls" })
        {
            help.Output.Should().Contain(flag);
        }
    }

    [Fact]
    public async Task A_master_started_with_credentials_and_acls_protects_its_endpoints()
    {
        using var dir = new TempDir();
        var credentials = await WriteAsync(dir, "credentials.json", """{"credentials": [{"principal": "ops", "secret": "ops-secret"}, {"principal": "dev", "secret": "dev-secret"}]}""");
        var acls = await WriteAsync(dir, "acls.json", """{"permissive": false, "view_frameworks": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}]}""",
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using var master = MezzoProcess.Start("master", "--port", "0", "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "work"),
            "--credentials", credentials, "--acls", acls, "--authenticate-http-readonly", "--authenticate-http-readwrite", "--authenticate-frameworks", "--authenticate-agents");
        var url = await master.WaitForUrlAsync();
        using var http = new HttpClient { BaseAddress = url };

        async Task<HttpStatusCode> GetAsync(string path, string? principal, string? secret)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (principal is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{secret}")));
            }

            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            return response.StatusCode;
        }

        (await GetAsync("/health", null, null)).Should().Be(HttpStatusCode.OK);
        (await GetAsync("/state", null, null)).Should().Be(HttpStatusCode.Unauthorized);
        (await GetAsync("/state", "ops", "wrong")).Should().Be(HttpStatusCode.Unauthorized);
        (await GetAsync("/state", "ops", "ops-secret")).Should().Be(HttpStatusCode.OK);
        (await GetAsync("/state", "dev", "dev-secret")).Should().Be(HttpStatusCode.Forbidden);

        using var state = new HttpRequestMessage(HttpMethod.Get, "/state");
        state.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:ops-secret")));
        using var answer = await http.SendAsync(state, TestContext.Current.CancellationToken);
        var flags = System.Text.Json.Nodes.JsonNode.Parse(await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["flags"]!;
        ((string?)flags["authenticate_http_readonly"]).Should().Be("true");
        ((string?)flags["authenticate_agents"]).Should().Be("true");
    }
}

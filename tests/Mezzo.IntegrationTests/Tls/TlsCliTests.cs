using System.Net;
using System.Text.RegularExpressions;
using Mezzo.Hosting.Tls;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Tls;

/// <summary>The <c>--tls-*</c> flags through the real <c>mezzo</c> binary: bad files, client verbs, <c>mezzo dev --tls</c>.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class TlsCliTests
{
    public enum BadFile
    {
        Expired,
        NotYetValid,
        MismatchedKey,
        WorldReadableKey,
        MissingCertificate,
        KeyWithoutCertificate,
        NotPem,
        MissingCa,
    }

    [Theory]
    [InlineData("master", BadFile.Expired)]
    [InlineData("master", BadFile.NotYetValid)]
    [InlineData("master", BadFile.MismatchedKey)]
    [InlineData("master", BadFile.WorldReadableKey)]
    [InlineData("master", BadFile.MissingCertificate)]
    [InlineData("master", BadFile.KeyWithoutCertificate)]
    [InlineData("master", BadFile.NotPem)]
    [InlineData("master", BadFile.MissingCa)]
    [InlineData("agent", BadFile.WorldReadableKey)]
    [InlineData("services", BadFile.MismatchedKey)]
    [InlineData("jobs", BadFile.Expired)]
    public async Task A_bad_tls_file_stops_the_process_with_exit_1_and_an_error_naming_the_flag_and_the_file(string process, BadFile bad)
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        var (tls, expected) = Prepare(pki, dir.Path, bad);
        var args = new List<string> { process, "--port", "0", "--work-dir", Path.Combine(dir.Path, process) };
        if (process is "agent" or "services" or "jobs")
        {
            args.AddRange(["--master", "127.0.0.1:1"]);
        }

        if (tls.CertificatePath is not null)
        {
            args.AddRange(["--tls-cert", tls.CertificatePath]);
        }

        if (tls.KeyPath is not null)
        {
            args.AddRange(["--tls-key", tls.KeyPath]);
        }

        if (tls.CaPath is not null)
        {
            args.AddRange(["--tls-ca", tls.CaPath]);
        }

        await using var run = MezzoProcess.Start([.. args]);
        (await run.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(1, run.Output);
        run.Output.Should().Contain(expected).And.NotContain("   at ", "the error is one line, not a stack trace");
    }

    private static (TlsOptions Tls, string Expected) Prepare(TestPki pki, string dir, BadFile bad)
    {
        switch (bad)
        {
            case BadFile.Expired:
            {
                var tls = pki.Issue("old", DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(-1));
                return (tls, $"--tls-cert {tls.CertificatePath}: the certificate 'CN=old' expired on");
            }

            case BadFile.NotYetValid:
            {
                var tls = pki.Issue("future", DateTimeOffset.UtcNow.AddHours(12), DateTimeOffset.UtcNow.AddDays(1));
                return (tls, $"--tls-cert {tls.CertificatePath}: the certificate 'CN=future' is not valid before");
            }

            case BadFile.MismatchedKey:
            {
                var one = pki.Issue("one");
                var two = pki.Issue("two");
                one.KeyPath = two.KeyPath;
                return (one, $"--tls-key {two.KeyPath}: the key does not match the certificate in --tls-cert {one.CertificatePath}");
            }

            case BadFile.WorldReadableKey:
            {
                var tls = pki.Issue("open");
                File.SetUnixFileMode(tls.KeyPath!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                return (tls, $"--tls-key {tls.KeyPath}: the file is readable or writable by every user (mode 644); it holds secrets: run 'chmod 600 {tls.KeyPath}'");
            }

            case BadFile.MissingCertificate:
            {
                var tls = pki.Issue("gone");
                File.Delete(tls.CertificatePath!);
                return (tls, $"--tls-cert {tls.CertificatePath}: Could not find file");
            }

            case BadFile.KeyWithoutCertificate:
            {
                var tls = pki.Issue("half");
                tls.CertificatePath = null;
                return (tls, $"--tls-key {tls.KeyPath} was given without --tls-cert");
            }

            case BadFile.NotPem:
            {
                var tls = pki.Issue("text");
                File.WriteAllText(tls.KeyPath!, "not a key");
                return (tls, $"--tls-key {tls.KeyPath}: no unencrypted PEM private key (RSA or ECDSA) in the file");
            }

            default:
            {
                var tls = pki.Issue("noca");
                tls.CaPath = Path.Combine(dir, "nowhere.pem");
                return (tls, $"--tls-ca {tls.CaPath}: Could not find file");
            }
        }
    }

    [Fact]
    public async Task Client_verbs_trust_an_https_master_through_tls_ca_or_MEZZO_TLS_CA_and_refuse_it_without()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        await using var cluster = await InProcessCluster.StartAsync(master => master.Tls = pki.Issue("master"), withAgent: false, http: pki.Client());
        var master = cluster.MasterUrl.ToString();

        var byFlag = await CliRun.RunAsync("state", "--master", master, "--tls-ca", pki.CaPath, "--json");
        byFlag.Exit.Should().Be(0, byFlag.ToString());
        var byEnvironment = await CliRun.RunAsync(new Dictionary<string, string> { ["MEZZO_TLS_CA"] = pki.CaPath, ["MEZZO_MASTER"] = master }, "agent", "list");
        byEnvironment.Exit.Should().Be(0, byEnvironment.ToString());

        var untrusted = await CliRun.RunAsync("state", "--master", master);
        untrusted.Exit.Should().Be(3, untrusted.ToString());
        untrusted.Stderr.Should().Contain($"Cannot reach the master at {master}");
        using var other = new TestPki(Path.Combine(dir.Path, "other"), "other");
        var wrongCa = await CliRun.RunAsync("state", "--master", master, "--tls-ca", other.CaPath);
        wrongCa.Exit.Should().Be(3, wrongCa.ToString());
        var missingCa = await CliRun.RunAsync("state", "--master", master, "--tls-ca", Path.Combine(dir.Path, "nowhere.pem"));
        missingCa.Exit.Should().Be(2, missingCa.ToString());
        missingCa.Stderr.Should().Contain($"--tls-ca {Path.Combine(dir.Path, "nowhere.pem")}: Could not find file");
    }

    [Fact]
    public async Task Dev_with_tls_serves_https_with_mutual_tls_and_prints_a_curl_line_that_works()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--tls", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0",
            "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048");
        var curl = await Poll.UntilAsync(() => Task.FromResult(CurlLine().Match(dev.Output) is { Success: true } m ? m : null), "mezzo dev --tls to print its curl line");
        var caPath = curl.Groups["ca"].Value;
        var state = new Uri(curl.Groups["url"].Value);

        caPath.Should().Be(Path.Combine(dir.Path, "tls", "ca.pem"));
        state.Scheme.Should().Be("https");
        foreach (var key in Directory.GetFiles(Path.Combine(dir.Path, "tls"), "*-key.pem"))
        {
            File.GetUnixFileMode(key).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, key);
        }

        using var http = new HttpClient(TlsContext.ForClient(caPath).CreateHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        using (var answer = await http.GetAsync(state))
        {
            answer.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // The agent registered over mutual TLS, and both frameworks subscribed over HTTPS.
        await Poll.UntilAsync(
            async () => await http.GetStringAsync(new Uri(state, "metrics/snapshot")) is var metrics
                && metrics.Contains("\"master/slaves_active\":1", StringComparison.Ordinal)
                // Connected, not "active": an idle framework suppresses offers, and the master counts it inactive then.
                && metrics.Contains("\"master/frameworks_connected\":2", StringComparison.Ordinal),
            "the dev agent, services and jobs over TLS",
            TimeSpan.FromSeconds(120));
        dev.Output.Should().MatchRegex(@"services\s+https://").And.MatchRegex(@"jobs\s+https://").And.MatchRegex(@"agent\s+https://");
    }

    [GeneratedRegex(@"curl --cacert (?<ca>\S+) (?<url>https://\S+)")]
    private static partial Regex CurlLine();
}

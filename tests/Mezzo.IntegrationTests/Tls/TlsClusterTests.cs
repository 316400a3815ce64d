using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Mezzo.Agent;
using Mezzo.Hosting.Tls;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Mezzo.IntegrationTests.Tls;

/// <summary>
/// A cluster with <c>--tls-cert/--tls-key/--tls-ca</c>: HTTPS everywhere, mutual TLS between agents and master, clients
/// that trust only the cluster's CA.
/// </summary>
public sealed class TlsClusterTests
{
    [Fact]
    public async Task A_task_runs_end_to_end_over_mutual_tls_with_a_scheduler_that_has_no_certificate()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        var agentTls = pki.Issue("agent");
        await using var cluster = await InProcessCluster.StartAsync(
            master => master.Tls = pki.Issue("master"),
            agent =>
            {
                agent.Tls = agentTls;
                agent.Resources = "cpus:2;mem:1024;disk:1000;ports:[31000-31010]";
            },
            http: pki.Client());

        cluster.MasterUrl.Scheme.Should().Be("https");
        cluster.Agent!.Url.Scheme.Should().Be("https");
        await using (var execute = MezzoProcess.Start("execute", "--master", cluster.MasterUrl.ToString(), "--tls-ca", pki.CaPath,
            "--name", "hello", "--command", "echo hello-over-tls"))
        {
            (await execute.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, execute.Output);
            execute.Output.Should().Contain("hello-over-tls").And.Contain("TASK_FINISHED");
        }

        // Master to agent: the web UI's proxy reaches the agent over HTTPS, presenting the master's certificate.
        var state = await cluster.StateAsync();
        var agentId = state["slaves"]![0]!["id"]!.GetValue<string>();
        using var proxied = await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, $"agent-proxy/{agentId}/state"));
        proxied.StatusCode.Should().Be(HttpStatusCode.OK, await proxied.Content.ReadAsStringAsync());
        JsonNode.Parse(await proxied.Content.ReadAsStringAsync())!["id"]!.GetValue<string>().Should().Be(agentId);
    }

    [Fact]
    public async Task An_agent_whose_certificate_another_CA_signed_is_refused_and_never_registers()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        using var rogue = new TestPki(Path.Combine(dir.Path, "rogue"), "rogue");
        await using var cluster = await InProcessCluster.StartAsync(master => master.Tls = pki.Issue("master"), withAgent: false, http: pki.Client());

        // It trusts the master, but presents a certificate the master's CA did not sign.
        var failure = await AgentFailsToRegisterAsync(cluster, rogue.Issue("agent", trust: pki.CaPath));

        failure.Should().Contain(cluster.MasterUrl.Authority);
        await NoAgentRegisteredAsync(cluster);
        // The same, by hand: the handshake itself fails.
        using var impostor = pki.Client(rogue.Issue("impostor", trust: pki.CaPath));
        var call = () => impostor.PostAsync(new Uri(cluster.MasterUrl, "internal/agent"), new StringContent("{}"));
        await call.Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public async Task An_agent_that_does_not_trust_the_masters_CA_refuses_to_connect()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        using var other = new TestPki(Path.Combine(dir.Path, "other"), "other");
        await using var cluster = await InProcessCluster.StartAsync(master => master.Tls = pki.Issue("master"), withAgent: false, http: pki.Client());

        // A certificate the master would accept, but the agent trusts only another CA: the master is not believed.
        var failure = await AgentFailsToRegisterAsync(cluster, pki.Issue("agent", trust: other.CaPath));

        failure.Should().Contain("SSL");
        await NoAgentRegisteredAsync(cluster);
    }

    [Fact]
    public async Task Agent_registration_requires_a_client_certificate_while_other_clients_are_served_without_one()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        await using var cluster = await InProcessCluster.StartAsync(master => master.Tls = pki.Issue("master"), withAgent: false, http: pki.Client());

        using var refused = await cluster.Http.PostAsync(new Uri(cluster.MasterUrl, "internal/agent"), new StringContent("{}"));
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("requires a client certificate signed by the cluster's --tls-ca");
        using var served = await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, "master/state"));
        served.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Plain_http_and_clients_that_do_not_trust_the_CA_cannot_talk_to_the_tls_port()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        await using var cluster = await InProcessCluster.StartAsync(master => master.Tls = pki.Issue("master"), withAgent: false, http: pki.Client());
        var port = cluster.MasterUrl.Port;

        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var overHttp = () => plain.GetAsync(new Uri($"http://127.0.0.1:{port}/master/state"));
        await overHttp.Should().ThrowAsync<HttpRequestException>();
        // The machine's trust store does not know the cluster's CA.
        var untrusted = () => plain.GetAsync(new Uri($"https://127.0.0.1:{port}/master/state"));
        await untrusted.Should().ThrowAsync<HttpRequestException>();
        // A CA of another cluster does not do either.
        using var other = new TestPki(Path.Combine(dir.Path, "other"), "other");
        using var otherClient = other.Client();
        var wrongCa = () => otherClient.GetAsync(new Uri($"https://127.0.0.1:{port}/master/state"));
        await wrongCa.Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public async Task The_redirect_port_answers_308_to_the_same_path_over_https()
    {
        using var dir = new TempDir();
        using var pki = new TestPki(Path.Combine(dir.Path, "pki"));
        var tls = pki.Issue("master");
        tls.RedirectHttpPort = 0;
        await using var cluster = await InProcessCluster.StartAsync(master => master.Tls = tls, withAgent: false, http: pki.Client());
        var redirect = cluster.Master.RedirectUrl;
        redirect.Should().NotBeNull();
        redirect!.Scheme.Should().Be("http");

        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var answer = await plain.GetAsync(new Uri(redirect, "master/state?jsonp=x"));

        answer.StatusCode.Should().Be(HttpStatusCode.PermanentRedirect);
        answer.Headers.Location.Should().Be(new Uri($"https://127.0.0.1:{cluster.MasterUrl.Port}/master/state?jsonp=x"));
        using var followed = await cluster.Http.GetAsync(new Uri($"https://127.0.0.1:{cluster.MasterUrl.Port}/master/state"));
        followed.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    /// <summary>Starts an agent with <paramref name="tls"/> and waits for its first failed attempt; answers the logged reason.</summary>
    private static async Task<string> AgentFailsToRegisterAsync(InProcessCluster cluster, TlsOptions tls)
    {
        var logs = new Logs();
        var options = new AgentOptions
        {
            Master = cluster.MasterAddress,
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = Path.Combine(cluster.WorkDir, "agent"),
            Resources = "cpus:1;mem:512;disk:100;ports:[31000-31001]",
            Tls = tls,
        };
        await using var agent = AgentServer.Create(options, logging => logging.AddProvider(logs));
        await agent.StartAsync();
        return await Poll.UntilAsync(
            () => Task.FromResult(logs.Entries.FirstOrDefault(e => e.StartsWith("Mezzo.Agent.AgentService: Master ", StringComparison.Ordinal) && e.Contains("unavailable", StringComparison.OrdinalIgnoreCase))),
            "the agent's failed attempt to register");
    }

    private static async Task NoAgentRegisteredAsync(InProcessCluster cluster)
    {
        var state = await cluster.StateAsync();
        state["slaves"]!.AsArray().Should().BeEmpty();
        (await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "metrics/snapshot"))).Should().Contain("\"master/slaves_active\":0");
    }

    private sealed class Logs : ILoggerProvider
    {
        public ConcurrentQueue<string> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Logs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue($"{category}: {formatter(state, exception)}");
        }
    }
}

/// <summary>With etcd, the leader's MasterInfo has no scheme: a TLS process calls it over HTTPS.</summary>
public sealed class TlsLeaderDetectionTests
{
    [Fact]
    public void The_leader_etcd_names_is_called_with_the_processes_scheme()
    {
        const string info = """{"hostname":"m1","port":5050,"address":{"hostname":"m1","ip":"10.0.0.1","port":5050}}""";

        Mezzo.Framework.Detection.MasterDetector.Parse(info, "https").Should().Be(new Uri("https://m1:5050/"));
        Mezzo.Framework.Detection.MasterDetector.Parse(info).Should().Be(new Uri("http://m1:5050/"));
    }
}

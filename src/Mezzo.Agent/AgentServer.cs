using System.Text.Json.Nodes;
using Mezzo.Agent.Detection;
using Mezzo.Agent.Http;
using Mezzo.Agent.Launcher;
using Mezzo.Core.Resources;
using Mezzo.Core.Security;
using Mezzo.Hosting.Logging;
using Mezzo.Hosting.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>The agent process: its HTTP endpoints and the agent service behind them.</summary>
public sealed class AgentServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly PosixProcessLauncher _launcher;
    private readonly AgentOptions _options;
    private readonly ILoggerFactory _loggers;
    private AgentService? _service;

    private AgentServer(WebApplication app, AgentOptions options, PosixProcessLauncher launcher, Hosting.Tls.TlsContext tls)
    {
        Tls = tls;
        _app = app;
        _options = options;
        _launcher = launcher;
        _loggers = app.Services.GetRequiredService<ILoggerFactory>();
    }

    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>The listener's TLS, also the agent's towards the master (<see cref="Hosting.Tls.TlsContext.None"/> when plain).</summary>
    public Hosting.Tls.TlsContext Tls { get; }

    public AgentService Service => _service ?? throw new InvalidOperationException("Agent not started");

    /// <summary>The agent's routing table, each route with its declared access.</summary>
    public IReadOnlyList<EndpointEntry> Endpoints => EndpointInventory.Of(_app);

    /// <summary>The process's runtime logging level (SET_LOGGING_LEVEL, /logging/toggle).</summary>
    public LogVerbosity Verbosity { get; private init; } = null!;

    /// <summary>Validates flags (throws ArgumentException/FormatException with a clear message) and builds the server.</summary>
    /// <param name="time">The clock a raised logging level reverts on (the agent's own timing is on the system clock).</param>
    public static AgentServer Create(AgentOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
        // A typo in --isolation fails here, before anything listens or starts.
        Isolation.IsolationFlag.Controllers(options.Isolation);
        var tls = Hosting.Tls.TlsContext.Load(options.Tls, time);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        var verbosity = new LogVerbosity(time);
        verbosity.AttachTo(builder.Services);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            tls.Listen(kestrel, System.Net.IPAddress.Parse(options.Ip), options.Port);
            new Hosting.Limits.ListenerLimitsOptions().ApplyTo(kestrel.Limits); // the same limits as every Mezzo listener
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        tls.UseRedirect(app);
        var server = new AgentServer(app, options, new PosixProcessLauncher(), tls) { Verbosity = verbosity };
        var levelLog = server._loggers.CreateLogger(typeof(LoggingToggle));
        // Authentication first, then routing so that protection sees each route's EndpointAccess, as the master.
        HttpSecurity.UseAuthentication(app, options.Security);
        app.UseRouting();
        HttpSecurity.UseProtection(app, options.Security);
        // Prometheus serves /metrics itself (middleware): behind protection, so its numbers are no more public than
        // /metrics/snapshot's; its /metrics route below is only there to declare its access.
        var prometheus = new PrometheusEndpoint(() => server._service);
        prometheus.Use(app);
        // Kestrel listens before the agent has recovered its checkpoints (its port is needed first): until then every
        // call but /health gets a 503 that says why, never a 500.
        app.Use(async (context, next) =>
        {
            if (server._service is null && context.Request.Path != "/health")
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync("Agent has not finished recovery");
                return;
            }

            await next(context);
        });
        app.MapGet("/metrics", (HttpContext context) => prometheus.WriteAsync(context)).Access(AccessKind.ReadOnly);
        app.MapGet("/health", () => Results.Ok()).Access(AccessKind.Public);
        app.MapGet("/version", () => Results.Text(new JsonObject { ["version"] = "1.11.0", ["mezzo_version"] = "0.1.0" }.ToJsonString(), "application/json"))
            .Access(AccessKind.ReadOnly);
        foreach (var path in (string[])["/state", "/state.json", "/slave(1)/state", "/slave(1)/state.json"])
        {
            // (Delegate): a lambda of HttpContext alone would be taken for a RequestDelegate, its IResult dropped.
            app.MapGet(path, (Delegate)(async (HttpContext context) => Results.Bytes(
                    await server.Service.GetStateJsonAsync(new AgentViewer(options.Security.Acls, HttpSecurity.Principal(context))), "application/json")))
                .Access(AccessKind.ReadOnly, AclAction.ViewFrameworks, AclAction.ViewTasks, AclAction.ViewExecutors);
        }

        foreach (var path in (string[])["/flags", "/slave(1)/flags"])
        {
            app.MapGet(path, (Delegate)((HttpContext context) => server.FlagsAsync(context)))
                .Access(AccessKind.ReadOnly, AclAction.ViewFlags);
        }

        app.MapGet("/metrics/snapshot", async () =>
        {
            var json = new JsonObject();
            foreach (var (key, value) in (await server.Service.GetMetricsAsync()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                json[key] = value;
            }

            return Results.Text(json.ToJsonString(), "application/json");
        }).Access(AccessKind.ReadOnly);
        foreach (var path in (string[])["/monitor/statistics", "/monitor/statistics.json", "/slave(1)/monitor/statistics", "/slave(1)/monitor/statistics.json"])
        {
            app.MapGet(path, (Delegate)(async (HttpContext context) => Results.Text(
                    System.Text.Json.JsonSerializer.Serialize(
                        await server.Service.GetStatisticsAsync(new AgentViewer(options.Security.Acls, HttpSecurity.Principal(context))),
                        Mezzo.Protocol.MesosJsonContext.Default.ListMonitorStatisticsEntry),
                    "application/json")))
                .Access(AccessKind.ReadOnly, AclAction.ViewContainers);
        }

        FilesEndpoints.Map(app, options.SandboxRoot, () => server._service, options.Security.Acls);
        OperatorEndpoint.Map(app, () => server._service, options.SandboxRoot, new OperatorEndpoint.Logging(verbosity, levelLog), options.Security.Acls);
        foreach (var path in (string[])[LoggingToggle.Path, "/slave(1)" + LoggingToggle.Path])
        {
            app.MapMethods(path, ["GET", "POST"], (HttpContext context) => LoggingToggle.Handle(context.Request.Query, verbosity, levelLog))
                .Access(AccessKind.ReadWrite, AclAction.SetLogLevel);
        }

        ExecutorEndpoints.Map(app, () => server._service);
        return server;
    }

    /// <summary>Mesos's agent <c>/flags</c>: the flags /state shows, for principals that view_flags allows.</summary>
    private async Task<IResult> FlagsAsync(HttpContext context)
    {
        var principal = HttpSecurity.Principal(context);
        if (!_options.Security.Acls.IsAllowed(AclAction.ViewFlags, principal, null))
        {
            var who = principal is null ? "an unauthenticated caller" : $"principal '{principal}'";
            return Results.Text($"Forbidden: {who} may not view the agent's flags (view_flags)", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        var flags = new JsonObject();
        foreach (var flag in await Service.GetFlagsAsync())
        {
            flags[flag.Name ?? ""] = flag.Value;
        }

        return Results.Text(new JsonObject { ["flags"] = flags }.ToJsonString(), "application/json");
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var total = ResourceDetector.Detect(_options.Resources, _options.WorkDir);
        var attributes = string.IsNullOrWhiteSpace(_options.Attributes) ? [] : AttributeParser.Parse(_options.Attributes);
        if (_options.Security.AuthenticateHttpExecutors)
        {
            // Before anything listens: the executor API checks tokens with this key from its first call on.
            _options.Security.BearerTokens = Executors.ExecutorTokens.LoadOrCreate(_options.WorkDir);
        }

        await _app.StartAsync(cancellationToken);
        Url = Hosting.Tls.TlsContext.BoundUrls(_app.Services).Primary;
        _options.Port = Url.Port;
        var log = _loggers.CreateLogger<AgentService>();
        var isolator = Isolation.CgroupIsolator.Create(_options, log);
        var namespaces = Isolation.NamespaceIsolator.Create(_options, _launcher, log);
        var service = new AgentService(_options, total, attributes, _launcher, TimeProvider.System, log, isolator, namespaces, Tls);
        // Recovery runs first in Start and may refuse (a corrupt checkpoint, a full disk): then nothing of the service
        // runs, and there is nothing of it to stop. The agent's parent cgroups go only if empty: the containers of the
        // tasks it refused to touch stay with them.
        try
        {
            service.Start();
        }
        catch
        {
            foreach (var directory in isolator.AgentDirectories)
            {
                _ = LibC.rmdir(directory.Path);
            }

            throw;
        }

        _service = service;
    }

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _launcher.Dispose();
    }
}

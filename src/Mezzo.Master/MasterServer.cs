using Mezzo.Core.Allocation;
using Mezzo.Hosting.Limits;
using Mezzo.Hosting.Logging;
using Mezzo.Hosting.Security;
using Mezzo.Hosting.Tls;
using Mezzo.Master.Actor;
using Mezzo.Master.Agents;
using Mezzo.Master.HighAvailability;
using Mezzo.Master.Http;
using Mezzo.Master.Scheduler;
using Mezzo.Storage.Etcd;
using Mezzo.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master;

/// <summary>
/// The master process: Kestrel in front of the master actor. With <c>--store sqlite</c> the actor is the master's for
/// its whole life; with <c>--store etcd://...</c> the process is a <see cref="MasterCandidate"/> that serves a new
/// actor for each term it is elected for and answers as a standby in between.
/// </summary>
public sealed class MasterServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly MasterActor? _actor;
    private readonly IRegistryStore? _registry;
    private readonly EtcdConnection? _etcd;
    private readonly MasterOptions _options;

    private MasterServer(WebApplication app, MasterOptions options, MasterActor? actor, IRegistryStore? registry, EtcdConnection? etcd, MasterCandidate? candidate, TlsContext tls)
    {
        _app = app;
        Tls = tls;
        _options = options;
        _actor = actor;
        _registry = registry;
        _etcd = etcd;
        Candidate = candidate;
    }

    /// <summary>The master actor: the only one with SQLite, the current term's with etcd (throws on a standby).</summary>
    public MasterActor Actor => _actor ?? Candidate?.Current?.Actor
        ?? throw new InvalidOperationException("This master is a standby: it is not leading now.");

    public MasterOptions Options => _options;

    /// <summary>Set with an etcd store: the election this master takes part in.</summary>
    public MasterCandidate? Candidate { get; }

    /// <summary>The routing table of the master (with etcd: of no term, since each term maps its own).</summary>
    public IReadOnlyList<EndpointEntry> Endpoints => EndpointInventory.Of(_app);

    /// <summary>The listener's TLS (<see cref="TlsContext.None"/> when plain).</summary>
    public TlsContext Tls { get; }

    /// <summary>With <c>--tls-redirect-http-port</c>: the plain listener that redirects to <see cref="Url"/>.</summary>
    public Uri? RedirectUrl { get; private set; }

    public bool IsLeading => _actor is not null || Candidate?.Current is not null;

    /// <summary>The bound address, e.g. http://127.0.0.1:5050 (the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>Builds the master; a bad <see cref="MasterOptions.Store"/> throws <see cref="FormatException"/> naming it.</summary>
    public static MasterServer Create(MasterOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
        var etcdTarget = EtcdTarget.ParseStore(options.Store);
        var tls = TlsContext.Load(options.Tls, time);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }

        // ASP.NET Core's hosting layer starts an Activity and a logging scope for every request as soon as its logger
        // is enabled at any level (even Critical), although it only ever logs request start/stop at Information. With
        // ~3 HTTP calls per task that was a measurable share of the master's allocations; it logs nothing we show.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        var clock = time ?? TimeProvider.System;
        var verbosity = new LogVerbosity(clock);
        verbosity.AttachTo(builder.Services);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            tls.Listen(kestrel, System.Net.IPAddress.Parse(options.Ip), options.Port);
            kestrel.Limits.MaxRequestBodySize = null; // enforced per API with a clear 413 message
            options.ListenerLimits.ApplyTo(kestrel.Limits);
            kestrel.AddServerHeader = false;
        });
        ClientRateLimiting.Add(builder.Services, options.RateLimit, context => IsRateLimited(context.Request.Path));
        var app = builder.Build();
        tls.UseRedirect(app);
        // Authentication first, so that the rate limiter partitions by principal; before the routes (and, with etcd,
        // before the leader/standby switch) so that both modes authenticate and limit alike.
        HttpSecurity.UseAuthentication(app, options.Security);
        ClientRateLimiting.Use(app, options.RateLimit);
        // Mutual TLS between agents and master: only a holder of a certificate from the cluster's CA may register as an agent.
        tls.RequireClientCertificate(app, path => path.StartsWithSegments(AgentEndpoint.Path, StringComparison.OrdinalIgnoreCase));
        var agents = (WebUiEndpoints.CreateAgentClient(tls), WebUiEndpoints.CreateFrameworkClient(tls));
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        Directory.CreateDirectory(options.WorkDir);
        MasterCandidate? candidateRef = null;
        MasterActor? single = null;
        var prometheus = new PrometheusEndpoint(() => single ?? candidateRef?.Current?.Actor);
        prometheus.Use(app);
        if (etcdTarget is null)
        {
            var registry = SqliteRegistryStore.InWorkDir(options.WorkDir);
            var actor = new MasterActor(options, registry, new HierarchicalAllocator(), clock, loggers.CreateLogger<MasterActor>()) { Verbosity = verbosity };
            single = actor;
            app.UseRouting();
            HttpSecurity.UseProtection(app, options.Security);
            MapEndpoints(app, actor, verbosity, agents);
            return new MasterServer(app, options, actor, registry, null, null, tls);
        }

        var etcd = EtcdConnection.Open(etcdTarget);
        var candidate = new MasterCandidate(
            etcd,
            options.LeaderLeaseTtl,
            registry => new MasterActor(options, registry, new HierarchicalAllocator(), clock, loggers.CreateLogger<MasterActor>()) { Verbosity = verbosity },
            actor =>
            {
                // Each term gets its own routes onto its own actor; the outer app only picks leader or standby.
                var routes = new ApplicationBuilder(app.Services);
                routes.UseRouting();
                HttpSecurity.UseProtection(routes, options.Security);
                routes.UseEndpoints(endpoints => MapEndpoints(endpoints, actor, verbosity, agents));
                return routes.Build();
            },
            clock,
            loggers.CreateLogger<MasterCandidate>());
        candidateRef = candidate;
        // A standby routes requests through the leader's table (whose handlers it never runs) so that each is
        // authenticated and authorized by the same declared access before it is answered or redirected.
        var standby = new ApplicationBuilder(app.Services);
        standby.UseRouting();
        HttpSecurity.UseProtection(standby, options.Security);
        standby.Use((HttpContext context, RequestDelegate _) => StandbyEndpoints.HandleAsync(context, candidate, options));
        standby.UseEndpoints(endpoints => MapEndpoints(endpoints, null!, verbosity, agents));
        var standbyPipeline = standby.Build();
        app.Run(context => candidate.Current is { } term
            ? term.Pipeline(context)
            : standbyPipeline(context));
        return new MasterServer(app, options, null, null, etcd, candidate, tls);
    }

    /// <summary>The APIs clients call in volume: the scheduler API and the operator API (at both of its paths).</summary>
    internal static bool IsRateLimited(PathString path) =>
        path.Equals("/api/v1/scheduler", StringComparison.OrdinalIgnoreCase)
        || path.Equals("/api/v1", StringComparison.OrdinalIgnoreCase)
        || path.Equals("/master/api/v1", StringComparison.OrdinalIgnoreCase);

    /// <param name="actor">The actor the handlers call; null for a standby's table, whose handlers never run.</param>
    private static void MapEndpoints(IEndpointRouteBuilder routes, MasterActor actor, LogVerbosity verbosity, (HttpClient Agents, HttpClient Frameworks) proxies)
    {
        routes.MapPost("/api/v1/scheduler", (HttpContext context) => SchedulerEndpoint.HandleAsync(context, actor))
            .Access(AccessKind.Framework, Core.Security.AclAction.RegisterFrameworks);
        routes.MapPost(AgentEndpoint.Path, (HttpContext context) => AgentEndpoint.HandleAsync(context, actor))
            .Access(AccessKind.Agent, Core.Security.AclAction.RegisterAgents);
        StateEndpoints.Map(routes, actor);
        ViewEndpoints.Map(routes, actor);
        OperatorEndpoint.Map(routes, actor);
        RoleEndpoints.Map(routes, actor);
        ReservationEndpoints.Map(routes, actor);
        MaintenanceEndpoints.Map(routes, actor);
        WebUiEndpoints.Map(routes, actor, proxies.Agents, proxies.Frameworks);
        LoggingToggle.Map(routes, verbosity, routes.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LoggingToggle)));
    }

    /// <summary>Starts serving; with etcd, fails with <see cref="EtcdUnavailableException"/> if etcd does not answer.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_etcd is not null)
        {
            await _etcd.CheckReachableAsync(cancellationToken);
        }

        _actor?.Start();
        await _app.StartAsync(cancellationToken);
        (Url, RedirectUrl) = TlsContext.BoundUrls(_app.Services);
        _options.Port = Url.Port;
        Candidate?.Start(new Protocol.V1.MasterInfo
        {
            Id = Candidate.StandbyId,
            Ip = MasterActor.AdvertisedIpNumber(_options.Ip),
            Port = (uint)_options.Port,
            Hostname = _options.Hostname,
            Pid = $"master@{_options.Ip}:{_options.Port}",
            Version = MezzoVersion.MesosCompatible,
            Address = new Protocol.V1.Address { Hostname = _options.Hostname, Ip = _options.Ip, Port = _options.Port },
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Candidate is not null)
        {
            // Resigns (revokes the lease) so a standby takes over now rather than after the TTL.
            await Candidate.DisposeAsync();
        }

        if (_actor is not null)
        {
            await _actor.DisposeAsync();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _registry?.Dispose();
        _etcd?.Dispose();
    }
}

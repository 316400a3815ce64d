using Mezzo.Core.Security;
using Mezzo.Hosting.HighAvailability;
using Mezzo.Hosting.Limits;
using Mezzo.Hosting.Security;
using Mezzo.Services.Engine;
using Mezzo.Services.Http;
using Mezzo.Services.State;
using Mezzo.Storage.Etcd;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services;

/// <summary>A term this instance leads: its actor (loaded from the store under the term's fence) and the routes onto it.</summary>
public sealed record ServicesTerm(ServicesActor Actor, RequestDelegate Pipeline) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Actor.DisposeAsync();
}

/// <summary>
/// The services process (`mezzo services`): Marathon's REST API on Kestrel in front of the services actor. With
/// <c>--store etcd://...</c> it is one of several instances that elect a leader: the leader runs the actor (and is the
/// framework), standbys answer /ping and /v2/leader and proxy the rest of the API to the leader as Marathon does. A
/// leader that loses its term stops acting at once and the process ends (Marathon: "Terminating after loss of
/// leadership"), for its supervisor to start it again as a standby.
/// </summary>
public sealed class ServicesServer : IAsyncDisposable
{
    public const string LeaderHeader = "X-Marathon-Leader";
    public const string ViaHeader = "X-Marathon-Via";

    private readonly WebApplication _app;
    private readonly ServicesOptions _options;
    private readonly ServicesActor? _actor;
    private readonly IServicesStore? _store;
    private readonly EtcdConnection? _etcd;
    private readonly LeaderProxy? _proxy;

    private ServicesServer(WebApplication app, ServicesOptions options, ServicesActor? actor, IServicesStore? store,
        EtcdConnection? etcd, EtcdCandidate<ServicesTerm>? candidate, LeaderProxy? proxy)
    {
        _app = app;
        _options = options;
        _actor = actor;
        _store = store;
        _etcd = etcd;
        Candidate = candidate;
        _proxy = proxy;
    }

    /// <summary>The actor of this instance: always with SQLite; with etcd only while it leads.</summary>
    public ServicesActor Actor => _actor ?? Candidate?.Current?.Actor
        ?? throw new InvalidOperationException("This services instance is a standby: only the leader has a services actor");

    /// <summary>With an etcd store: this instance as a candidate for leadership.</summary>
    public EtcdCandidate<ServicesTerm>? Candidate { get; }

    public bool IsLeading => _actor is not null || Candidate?.Current is not null;

    /// <summary>Completes, with the reason, when this instance led and lost its term: the process must end.</summary>
    public Task<string> LeadershipLost => Candidate?.Ended ?? new TaskCompletionSource<string>().Task;

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>host:port this instance announces as leader (Marathon's /v2/leader value).</summary>
    public string HostPort => $"{_options.Hostname}:{_options.Port}";

    /// <summary>Builds the server; a bad <see cref="ServicesOptions.Store"/> throws <see cref="FormatException"/> naming it.</summary>
    public static ServicesServer Create(ServicesOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
        var etcdTarget = ParseStore(options.Store);
        var tls = Hosting.Tls.TlsContext.Load(options.Tls, time);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var verbosity = new Hosting.Logging.LogVerbosity(time);
        verbosity.AttachTo(builder.Services);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            tls.Listen(kestrel, System.Net.IPAddress.Parse(options.Ip), options.Port);
            new Hosting.Limits.ListenerLimitsOptions().ApplyTo(kestrel.Limits); // the same limits as every Mezzo listener
            kestrel.Limits.MaxRequestBodySize = null; // answered with Marathon-style 413 by the endpoints
            kestrel.AddServerHeader = false;
        });
        ClientRateLimiting.Add(builder.Services, options.RateLimit, context => !IsProbe(context.Request.Path));
        var app = builder.Build();
        tls.UseRedirect(app);
        var clock = time ?? TimeProvider.System;
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        ServicesActor? single = null;
        EtcdCandidate<ServicesTerm>? elected = null;
        // First, so it counts every request with the status the rest of the pipeline answered; a standby (no term)
        // still answers its scrape (a route of this process, below), with the HTTP series only.
        var metrics = new PrometheusEndpoint(() => single ?? elected?.Current?.Actor);
        metrics.Count(app);
        app.Use(async (context, next) =>
        {
            // Marathon answers every error as JSON; so does Mezzo for anything that escapes a handler.
            try
            {
                await next(context);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !context.Response.HasStarted)
            {
                await HttpJson.MessageAsync(context, StatusCodes.Status500InternalServerError, ex.Message);
            }
        });
        // Authentication first, so that the rate limiter partitions by principal; both before the leader/standby
        // switch, so that a standby neither answers nor proxies a call the leader would refuse.
        HttpSecurity.UseAuthentication(app, options.Security);
        ClientRateLimiting.Use(app, options.RateLimit);
        app.UseRouting();
        var toggleLog = loggers.CreateLogger(typeof(Hosting.Logging.LoggingToggle));
        void MapLocal(IEndpointRouteBuilder routes)
        {
            // Routes of this process (leader or standby alike), never proxied.
            metrics.Map(routes, AclAction.ViewAppGroups);
            routes.MapMethods(Hosting.Logging.LoggingToggle.Path, ["GET", "POST"], (HttpContext context) => Hosting.Logging.LoggingToggle.Handle(context.Request.Query, verbosity, toggleLog))
                .Access(AccessKind.ReadWrite, AclAction.SetLogLevel);
        }

        if (etcdTarget is null)
        {
            Directory.CreateDirectory(options.WorkDir);
            var store = ServicesStore.InWorkDir(options.WorkDir);
            var actor = new ServicesActor(options, store, clock, loggers, tls);
            single = actor;
            HttpSecurity.UseProtection(app, options.Security);
            app.Use((context, next) =>
            {
                // Marathon names the leader on every answer; a single instance always leads.
                context.Response.Headers[LeaderHeader] = $"{tls.Scheme}://{options.Hostname}:{options.Port}";
                return next(context);
            });
            MapLocal(app);
            MapEndpoints(app, actor);
            return new ServicesServer(app, options, actor, store, null, null, null);
        }

        var etcd = EtcdConnection.Open(etcdTarget);
        var candidate = new EtcdCandidate<ServicesTerm>(
            etcd,
            options.LeaderLeaseTtl,
            (term, _) =>
            {
                // Loaded here, under the new term's fence: whatever the previous leader persisted.
                var actor = new ServicesActor(options, new EtcdServicesStore(new EtcdFence(term)), clock, loggers, tls);
                actor.Start();
                var routes = new ApplicationBuilder(app.Services);
                routes.Use((context, next) =>
                {
                    context.Response.Headers[LeaderHeader] = $"{tls.Scheme}://{options.Hostname}:{options.Port}";
                    return next(context);
                });
                routes.UseRouting();
                HttpSecurity.UseProtection(routes, options.Security);
                routes.UseEndpoints(endpoints => MapEndpoints(endpoints, actor));
                return Task.FromResult(new ServicesTerm(actor, routes.Build()));
            },
            TermEndPolicy.Exit,
            clock,
            loggers.CreateLogger<ServicesServer>());
        elected = candidate;
        var proxy = new LeaderProxy(new LeaderProxyOptions { ViaHeader = ViaHeader, LeaderHeader = LeaderHeader, RedirectPrefixes = ["/v2/events"], Tls = tls });
        var server = new ServicesServer(app, options, null, null, etcd, candidate, proxy);
        // The process's own routes are protected here; the API routes by the term's pipeline, or by the standby.
        app.UseWhen(context => context.GetEndpoint() is not null, routed => HttpSecurity.UseProtection(routed, options.Security));
        MapLocal(app);
        app.Run(async context =>
        {
            if (context.GetEndpoint()?.RequestDelegate is { } local)
            {
                // One of this process's own routes (the endpoint middleware comes after this terminal handler).
                await local(context);
                return;
            }

            if (candidate.Current is null && !IsAnsweredByStandby(context))
            {
                await LeaderProxy.WaitForConsistentLeadershipAsync(() => candidate.Current is not null, () => candidate.Leader, server.HostPort, clock, context.RequestAborted);
            }

            await (candidate.Current is { } term ? term.Pipeline(context) : server.StandbyAsync(context));
        });
        return server;
    }

    /// <summary>null for SQLite, the etcd target (its own key space under the prefix) for etcd://...</summary>
    public static EtcdTarget? ParseStore(string store) => EtcdTarget.ParseStore(store, "services");

    private static void MapEndpoints(IEndpointRouteBuilder routes, ServicesActor actor)
    {
        AppsEndpoints.Map(routes, actor);
        ClusterEndpoints.Map(routes, actor);
        EventsEndpoint.Map(routes, actor);
        EventSubscriptionsEndpoints.Map(routes, actor);
    }

    /// <summary>Liveness probes: neither authenticated nor rate limited.</summary>
    private static bool IsProbe(PathString path) => path.Equals("/ping", StringComparison.Ordinal);

    private static bool IsAnsweredByStandby(HttpContext context) =>
        context.Request.Path.Value is "/ping" or "/v2/leader" && HttpMethods.IsGet(context.Request.Method);

    /// <summary>A standby's answers: liveness and the leader itself, everything else through the leader proxy.</summary>
    private Task StandbyAsync(HttpContext context)
    {
        if (StandbyRefusal(context) is { } refusal)
        {
            return refusal;
        }

        var leader = Candidate!.Leader;
        if (!IsAnsweredByStandby(context))
        {
            return _proxy!.ForwardAsync(context, HostPort, leader);
        }

        if (context.Request.Path.Value == "/ping")
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("pong", context.RequestAborted);
        }

        return leader is null || leader == HostPort
            ? HttpJson.MessageAsync(context, StatusCodes.Status404NotFound, "There is no leader")
            : HttpJson.WriteAsync(context, StatusCodes.Status200OK, new System.Text.Json.Nodes.JsonObject { ["leader"] = leader });
    }

    /// <summary>A standby's 401 for calls that lack the credentials the leader would require.</summary>
    private Task? StandbyRefusal(HttpContext context) => HttpSecurity.ChallengeStandby(context, _options.Security, IsProbe(context.Request.Path));

    /// <summary>The routing table of this process (with etcd: its own routes only, since each term maps the API).</summary>
    public IReadOnlyList<EndpointEntry> Endpoints => EndpointInventory.Of(_app);

    /// <summary>Starts serving; with etcd, fails with <see cref="EtcdUnavailableException"/> if etcd does not answer.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_etcd is not null)
        {
            await _etcd.CheckReachableAsync(cancellationToken);
        }

        await _app.StartAsync(cancellationToken);
        var address = Hosting.Tls.TlsContext.BoundUrls(_app.Services).Primary.ToString();
        Url = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        _options.Port = Url.Port;
        _actor?.Start();
        Candidate?.Start(HostPort);
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
        _store?.Dispose();
        _proxy?.Dispose();
        _etcd?.Dispose();
    }
}

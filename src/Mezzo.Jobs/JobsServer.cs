using Mezzo.Framework;
using Mezzo.Core.Security;
using Mezzo.Hosting.HighAvailability;
using Mezzo.Hosting.Limits;
using Mezzo.Hosting.Security;
using Mezzo.Jobs.Engine;
using Mezzo.Jobs.Http;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Etcd;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Mezzo.Jobs;

/// <summary>A term this instance leads: its actor (loaded from the store under the term's fence) and the routes onto it.</summary>
public sealed record JobsTerm(JobsActor Actor, RequestDelegate Pipeline) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Actor.DisposeAsync();
}

/// <summary>
/// The <c>mezzo jobs</c> process: a Chronos-compatible REST API on Kestrel in front of the jobs actor, and a Mesos
/// framework on the public scheduler API (through <see cref="SchedulerClient"/>) that runs the jobs. With
/// <c>--store etcd://...</c> it is one of several instances that elect a leader: the leader runs the actor (and is the
/// framework); standbys answer the leader endpoints and proxy the rest of the API to the leader. As Chronos does
/// (<c>onDefeated</c>), a leader that loses its term drops its actor and framework connection at once and campaigns
/// again as a standby.
/// </summary>
public sealed class JobsServer : IAsyncDisposable
{
    public const string ViaHeader = "X-Chronos-Via";

    private readonly WebApplication _app;
    private readonly IJobsStore? _store;
    private readonly FileStream? _lock;
    private readonly JobsOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly bool _connect;
    private readonly JobsActor? _actor;
    private readonly EtcdConnection? _etcd;
    private readonly LeaderProxy? _proxy;

    private JobsServer(WebApplication app, FileStream? workDirLock, IJobsStore? store, JobsActor? actor, JobsOptions options, ILoggerFactory loggers, bool connect,
        EtcdConnection? etcd = null, EtcdCandidate<JobsTerm>? candidate = null, LeaderProxy? proxy = null)
    {
        _app = app;
        _lock = workDirLock;
        _store = store;
        _actor = actor;
        _options = options;
        _loggers = loggers;
        _connect = connect;
        _etcd = etcd;
        Candidate = candidate;
        _proxy = proxy;
    }

    /// <summary>The listener's TLS, also this framework's towards the master (<see cref="Hosting.Tls.TlsContext.None"/> when plain).</summary>
    public Hosting.Tls.TlsContext Tls { get; private init; } = Hosting.Tls.TlsContext.None;

    /// <summary>The actor of this instance: always with SQLite; with etcd only while it leads.</summary>
    public JobsActor Actor => _actor ?? Candidate?.Current?.Actor
        ?? throw new InvalidOperationException("This jobs instance is a standby: only the leader has a jobs actor");

    /// <summary>With an etcd store: this instance as a candidate for leadership.</summary>
    public EtcdCandidate<JobsTerm>? Candidate { get; }

    public bool IsLeading => _actor is not null || Candidate?.Current is not null;

    public JobsOptions Options => _options;

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <summary>host:port this instance announces as leader (Chronos's /leader value).</summary>
    public string HostPort => $"{_options.Hostname}:{Url.Port}";

    /// <param name="connect">false serves the API without subscribing to a master (API tests).</param>
    /// <exception cref="JobsWorkDirInUseException">another jobs service holds the work dir.</exception>
    /// <exception cref="FormatException">the store is neither sqlite nor an etcd address.</exception>
    public static JobsServer Create(JobsOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null, bool connect = true)
    {
        var etcdTarget = ParseStore(options.Store);
        var tls = Hosting.Tls.TlsContext.Load(options.Tls, time);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        var verbosity = new Hosting.Logging.LogVerbosity(time);
        verbosity.AttachTo(builder.Services);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            tls.Listen(kestrel, System.Net.IPAddress.Parse(options.Ip), options.Port);
            new Hosting.Limits.ListenerLimitsOptions().ApplyTo(kestrel.Limits); // the same limits as every Mezzo listener
            kestrel.AddServerHeader = false;
        });
        ClientRateLimiting.Add(builder.Services, options.RateLimit, context => !IsProbe(context.Request.Path));
        var app = builder.Build();
        tls.UseRedirect(app);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var clock = time ?? TimeProvider.System;
        JobsActor? created = null;
        EtcdCandidate<JobsTerm>? elected = null;
        var metrics = new PrometheusEndpoint(() => created ?? elected?.Current?.Actor);
        // First, so it counts every request with the status the endpoints answered.
        metrics.Count(app);
        // Authentication first, so that the rate limiter partitions by principal; both before the leader/standby
        // switch, so that a standby neither answers nor proxies a call the leader would refuse.
        HttpSecurity.UseAuthentication(app, options.Security);
        ClientRateLimiting.Use(app, options.RateLimit);
        app.UseRouting();
        var toggleLog = loggers.CreateLogger(typeof(Hosting.Logging.LoggingToggle));
        void MapLocal(IEndpointRouteBuilder routes)
        {
            // Routes of this process (leader or standby alike), never proxied.
            metrics.Map(routes, AclAction.ViewJobs);
            routes.MapMethods(Hosting.Logging.LoggingToggle.Path, ["GET", "POST"], (HttpContext context) => Hosting.Logging.LoggingToggle.Handle(context.Request.Query, verbosity, toggleLog))
                .Access(AccessKind.ReadWrite, AclAction.SetLogLevel);
        }

        if (etcdTarget is null)
        {
            Directory.CreateDirectory(options.WorkDir);
            var workDirLock = LockWorkDir(options.WorkDir);
            var store = JobsStore.InWorkDir(options.WorkDir);
            var engine = new JobsEngine(store, options, Instant.FromDateTimeOffset(clock.GetUtcNow()), loggers.CreateLogger<JobsEngine>());
            var actor = created = new JobsActor(engine, clock, options.TickInterval, loggers.CreateLogger<JobsActor>()) { TickTimed = metrics.ObserveTick };
            var server = new JobsServer(app, workDirLock, store, actor, options, loggers, connect) { Tls = tls };
            HttpSecurity.UseProtection(app, options.Security);
            MapLocal(app);
            JobsEndpoints.Map(app, actor, options, () => server.HostPort);
            return server;
        }

        var etcd = EtcdConnection.Open(etcdTarget);
        JobsServer? self = null;
        var candidate = new EtcdCandidate<JobsTerm>(
            etcd,
            options.LeaderLeaseTtl,
            (term, _) =>
            {
                // Loaded here, under the new term's fence: whatever the previous leader persisted.
                var store = new EtcdJobsStore(new EtcdFence(term));
                var engine = new JobsEngine(store, options, Instant.FromDateTimeOffset(clock.GetUtcNow()), loggers.CreateLogger<JobsEngine>());
                var actor = new JobsActor(engine, clock, options.TickInterval, loggers.CreateLogger<JobsActor>()) { TickTimed = metrics.ObserveTick };
                self!.StartActor(actor);
                var routes = new ApplicationBuilder(app.Services);
                routes.UseRouting();
                HttpSecurity.UseProtection(routes, options.Security);
                routes.UseEndpoints(endpoints => JobsEndpoints.Map(endpoints, actor, options, () => self.HostPort));
                return Task.FromResult(new JobsTerm(actor, routes.Build()));
            },
            TermEndPolicy.Standby,
            clock,
            loggers.CreateLogger<JobsServer>());
        elected = candidate;
        var proxy = new LeaderProxy(new LeaderProxyOptions { ViaHeader = ViaHeader, Tls = tls });
        self = new JobsServer(app, null, null, null, options, loggers, connect, etcd, candidate, proxy) { Tls = tls };
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
                await LeaderProxy.WaitForConsistentLeadershipAsync(() => candidate.Current is not null, () => candidate.Leader, self.HostPort, clock, context.RequestAborted);
            }

            await (candidate.Current is { } current ? current.Pipeline(context) : self.StandbyAsync(context));
        });
        return self;
    }

    /// <summary>null for SQLite, the etcd target (its own key space under the prefix) for etcd://...</summary>
    public static EtcdTarget? ParseStore(string store) => EtcdTarget.ParseStore(store, "jobs");

    /// <summary>
    /// Two schedulers over one store would both run every job: the work dir is held exclusively (an advisory lock the
    /// kernel drops when the process dies, so a kill -9 does not leave it locked).
    /// </summary>
    private static FileStream LockWorkDir(string workDir)
    {
        var path = Path.Combine(workDir, "jobs.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new JobsWorkDirInUseException($"The jobs work dir '{workDir}' is in use by another mezzo jobs ({ex.Message}); give each one its own --work-dir", ex);
        }
    }

    /// <summary>Liveness probes: neither authenticated nor rate limited.</summary>
    private static bool IsProbe(PathString path) => path.Equals("/ping", StringComparison.Ordinal);

    /// <summary>The routing table of this process (with etcd: its own routes only, since each term maps the API).</summary>
    public IReadOnlyList<EndpointEntry> Endpoints => EndpointInventory.Of(_app);

    /// <summary>A standby's 401 for calls that lack the credentials the leader would require.</summary>
    private Task? StandbyRefusal(HttpContext context) => HttpSecurity.ChallengeStandby(context, _options.Security, IsProbe(context.Request.Path));

    /// <summary>A standby's answers: the leader itself, everything else through the leader proxy (Chronos's RedirectFilter proxies too).</summary>
    private static bool IsAnsweredByStandby(HttpContext context) =>
        context.Request.Path.Value is "/leader" or "/v1/scheduler/leader" or "/scheduler/leader" or "/ping" && HttpMethods.IsGet(context.Request.Method);

    private Task StandbyAsync(HttpContext context)
    {
        if (StandbyRefusal(context) is { } refusal)
        {
            return refusal;
        }

        var leader = Candidate!.Leader;
        if (context.Request.Path.Value == "/ping" && HttpMethods.IsGet(context.Request.Method))
        {
            // Liveness of this process, leader or not, as every Chronos instance answers it.
            return JobsEndpoints.PongAsync(context);
        }

        if (IsAnsweredByStandby(context))
        {
            if (leader is null || leader == HostPort)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.ContentType = "text/plain; charset=utf-8";
                return context.Response.WriteAsync(Candidate.EtcdReachable
                    ? "No jobs scheduler is currently leading; retry shortly"
                    : $"No leading jobs scheduler known: etcd at {Candidate.Target} is unreachable", context.RequestAborted);
            }

            return Results.Json(new Dictionary<string, string> { ["leader"] = leader }, LeaderJson.Default.DictionaryStringString).ExecuteAsync(context);
        }

        return _proxy!.ForwardAsync(context, HostPort, leader);
    }

    private void StartActor(JobsActor actor)
    {
        SchedulerClient? client = null;
        if (_connect)
        {
            client = new SchedulerClient(
                new SchedulerOptions
                {
                    Master = _options.Master,
                    Credential = _options.MesosCredential,
                    DefaultScheme = Tls.Scheme,
                    ConfigureHttpHandler = handler => Tls.ConfigureClient(handler),
                    // Acknowledged by the actor only once the update's effect is stored.
                    AutoAcknowledge = false,
                    FrameworkInfo = new FrameworkInfo
                    {
                        // The id the store keeps: a new leader subscribes as the same framework and its tasks carry over.
                        Id = actor.Snapshot.FrameworkId is { } id ? new FrameworkID { Value = id } : null,
                        User = _options.Defaults.User,
                        Name = _options.FrameworkName,
                        Principal = _options.MesosCredential?.Principal,
                        Role = _options.Role,
                        FailoverTimeout = _options.FailoverTimeout.TotalSeconds,
                        Checkpoint = true,
                        Hostname = _options.Hostname,
                        WebuiUrl = $"{Tls.Scheme}://{_options.Hostname}:{Url.Port}",
                    },
                },
                _loggers.CreateLogger<SchedulerClient>());
        }

        actor.Start(client);
        if (client is not null)
        {
            // Subscribing retries in the background until a master answers; the API serves meanwhile.
            _ = client.SubscribeAsync(CancellationToken.None).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }
    }

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
        if (_actor is not null)
        {
            StartActor(_actor);
        }

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
        if (_lock is not null)
        {
            await _lock.DisposeAsync();
        }

        _proxy?.Dispose();
        _etcd?.Dispose();
    }
}

public sealed class JobsWorkDirInUseException(string message, Exception inner) : IOException(message, inner);

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class LeaderJson : System.Text.Json.Serialization.JsonSerializerContext;

using Mezzo.Framework;
using Mezzo.Jobs.Engine;
using Mezzo.Jobs.Http;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Mezzo.Jobs;

/// <summary>
/// The <c>mezzo jobs</c> process: a Chronos-compatible REST API on Kestrel in front of the jobs actor, and a Mesos
/// framework on the public scheduler API (through <see cref="SchedulerClient"/>) that runs the jobs.
/// </summary>
public sealed class JobsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly JobsStore _store;
    private readonly FileStream _lock;
    private readonly JobsOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly bool _connect;

    private JobsServer(WebApplication app, FileStream workDirLock, JobsStore store, JobsActor actor, JobsOptions options, ILoggerFactory loggers, bool connect)
    {
        _app = app;
        _lock = workDirLock;
        _store = store;
        Actor = actor;
        _options = options;
        _loggers = loggers;
        _connect = connect;
    }

    public JobsActor Actor { get; }

    public JobsOptions Options => _options;

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    /// <param name="connect">false serves the API without subscribing to a master (API tests).</param>
    /// <exception cref="JobsWorkDirInUseException">another jobs service holds the work dir.</exception>
    public static JobsServer Create(JobsOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null, bool connect = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        var verbosity = new Hosting.Logging.LogVerbosity(time);
        verbosity.AttachTo(builder.Services);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(System.Net.IPAddress.Parse(options.Ip), options.Port);
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var clock = time ?? TimeProvider.System;
        Directory.CreateDirectory(options.WorkDir);
        var workDirLock = LockWorkDir(options.WorkDir);
        var store = JobsStore.InWorkDir(options.WorkDir);
        var engine = new JobsEngine(store, options, Instant.FromDateTimeOffset(clock.GetUtcNow()), loggers.CreateLogger<JobsEngine>());
        var actor = new JobsActor(engine, clock, options.TickInterval, loggers.CreateLogger<JobsActor>());
        var server = new JobsServer(app, workDirLock, store, actor, options, loggers, connect);
        JobsEndpoints.Map(app, actor, options, () => $"{options.Hostname}:{server.Url.Port}");
        Hosting.Logging.LoggingToggle.Map(app, verbosity);
        return server;
    }

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

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        SchedulerClient? client = null;
        if (_connect)
        {
            client = new SchedulerClient(
                new SchedulerOptions
                {
                    Master = _options.Master,
                    // Acknowledged by the actor only once the update's effect is stored.
                    AutoAcknowledge = false,
                    FrameworkInfo = new FrameworkInfo
                    {
                        Id = Actor.Snapshot.FrameworkId is { } id ? new FrameworkID { Value = id } : null,
                        User = _options.Defaults.User,
                        Name = _options.FrameworkName,
                        Role = _options.Role,
                        FailoverTimeout = _options.FailoverTimeout.TotalSeconds,
                        Checkpoint = true,
                        Hostname = _options.Hostname,
                        WebuiUrl = $"http://{_options.Hostname}:{Url.Port}",
                    },
                },
                _loggers.CreateLogger<SchedulerClient>());
        }

        Actor.Start(client);
        if (client is not null)
        {
            // Subscribing retries in the background until a master answers; the API serves meanwhile.
            _ = client.SubscribeAsync(CancellationToken.None).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Actor.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _store.Dispose();
        await _lock.DisposeAsync();
    }
}

public sealed class JobsWorkDirInUseException(string message, Exception inner) : IOException(message, inner);

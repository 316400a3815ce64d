using Mezzo.Core.Allocation;
using Mezzo.Master.Actor;
using Mezzo.Master.Agents;
using Mezzo.Master.Http;
using Mezzo.Master.Scheduler;
using Mezzo.Storage.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master;

/// <summary>The master process: Kestrel in front of the master actor.</summary>
public sealed class MasterServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IRegistryStore _registry;

    private MasterServer(WebApplication app, MasterActor actor, IRegistryStore registry)
    {
        _app = app;
        Actor = actor;
        _registry = registry;
    }

    public MasterActor Actor { get; }

    /// <summary>The bound address, e.g. http://127.0.0.1:5050 (the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    public static MasterServer Create(MasterOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
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

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(System.Net.IPAddress.Parse(options.Ip), options.Port);
            kestrel.Limits.MaxRequestBodySize = null; // enforced per API with a clear 413 message
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        Directory.CreateDirectory(options.WorkDir);
        var registry = SqliteRegistryStore.InWorkDir(options.WorkDir);
        var actor = new MasterActor(options, registry, new HierarchicalAllocator(), time ?? TimeProvider.System,
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<MasterActor>());
        app.MapPost("/api/v1/scheduler", (Microsoft.AspNetCore.Http.HttpContext context) => SchedulerEndpoint.HandleAsync(context, actor));
        app.MapPost(AgentEndpoint.Path, (Microsoft.AspNetCore.Http.HttpContext context) => AgentEndpoint.HandleAsync(context, actor));
        StateEndpoints.Map(app, actor);
        OperatorEndpoint.Map(app, actor);
        RoleEndpoints.Map(app, actor);
        ReservationEndpoints.Map(app, actor);
        MaintenanceEndpoints.Map(app, actor);
        return new MasterServer(app, actor, registry);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Actor.Start();
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        Actor.Options.Port = Url.Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Actor.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _registry.Dispose();
    }
}

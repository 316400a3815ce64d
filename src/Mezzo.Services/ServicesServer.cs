using Mezzo.Services.Engine;
using Mezzo.Services.Http;
using Mezzo.Services.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services;

/// <summary>The services process (`mezzo services`): Marathon's REST API on Kestrel in front of the services actor.</summary>
public sealed class ServicesServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServicesStore _store;

    private ServicesServer(WebApplication app, ServicesActor actor, ServicesStore store)
    {
        _app = app;
        Actor = actor;
        _store = store;
    }

    public ServicesActor Actor { get; }

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    public static ServicesServer Create(ServicesOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var verbosity = new Hosting.Logging.LogVerbosity(time);
        verbosity.AttachTo(builder.Services);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(System.Net.IPAddress.Parse(options.Ip), options.Port);
            kestrel.Limits.MaxRequestBodySize = null; // answered with Marathon-style 413 by the endpoints
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        Directory.CreateDirectory(options.WorkDir);
        var store = ServicesStore.InWorkDir(options.WorkDir);
        var actor = new ServicesActor(options, store, time ?? TimeProvider.System, app.Services.GetRequiredService<ILoggerFactory>());
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
        AppsEndpoints.Map(app, actor);
        ClusterEndpoints.Map(app, actor);
        EventsEndpoint.Map(app, actor);
        Hosting.Logging.LoggingToggle.Map(app, verbosity);
        return new ServicesServer(app, actor, store);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        Actor.Options.Port = Url.Port;
        Actor.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await Actor.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _store.Dispose();
    }
}

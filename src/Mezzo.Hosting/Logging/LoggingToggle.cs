using System.Globalization;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Hosting.Logging;

/// <summary>
/// libprocess's <c>/logging/toggle?level=N&amp;duration=D</c>, which every Mesos process serves: without parameters it
/// answers the current level; with both it raises the level for the duration; anything else is a 400 in its words.
/// </summary>
public static partial class LoggingToggle
{
    public const string Path = "/logging/toggle";

    /// <summary>
    /// One route for reading and changing the level, as libprocess has it: read-write, gated by <c>set_log_level</c>
    /// (Mesos authorizes the toggle with that action).
    /// </summary>
    public static readonly EndpointAccess Access = new(AccessKind.ReadWrite, [AclAction.SetLogLevel]);

    public static void Map(IEndpointRouteBuilder routes, LogVerbosity verbosity, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(routes);
        routes.MapMethods(Path, ["GET", "POST"], (HttpContext context) => Handle(context.Request.Query, verbosity, log))
            .WithMetadata(Access);
    }


    /// <summary>
    /// Serves the toggle on a process's own app, logging changes under this class's category. Middleware rather than a
    /// route: services and jobs on etcd swap their routes with each leadership term, and a standby must still answer
    /// for its own process rather than proxy the call to the leader.
    /// </summary>
    public static void Use(WebApplication app, LogVerbosity verbosity)
    {
        ArgumentNullException.ThrowIfNull(app);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LoggingToggle));
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.Equals(Path, StringComparison.Ordinal) && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsPost(context.Request.Method)))
            {
                if (await HttpSecurity.AdmitAsync(context, Access, Path))
                {
                    await Handle(context.Request.Query, verbosity, log).ExecuteAsync(context);
                }

                return;
            }

            await next(context);
        });
    }

    public static IResult Handle(IQueryCollection query, LogVerbosity verbosity, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(verbosity);
        var level = query.TryGetValue("level", out var l) ? l.ToString() : null;
        var duration = query.TryGetValue("duration", out var d) ? d.ToString() : null;
        switch (level, duration)
        {
            case (null, null):
                return Text(StatusCodes.Status200OK, verbosity.Level.ToString(CultureInfo.InvariantCulture) + "\n");
            case (_, null):
                return Text(StatusCodes.Status400BadRequest, "Expecting 'duration=value' in query.\n");
            case (null, _):
                return Text(StatusCodes.Status400BadRequest, "Expecting 'level=value' in query.\n");
        }

        if (!int.TryParse(level, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return Text(StatusCodes.Status400BadRequest, $"Failed to convert '{level}' to number.\n");
        }

        if (value < 0)
        {
            return Text(StatusCodes.Status400BadRequest, $"Invalid level '{value}'.\n");
        }

        if (!MesosDuration.TryParse(duration, out var span) || span <= TimeSpan.Zero)
        {
            return Text(StatusCodes.Status400BadRequest, $"Invalid duration '{duration}': expected a positive number and a unit (e.g. 10secs, 15mins).\n");
        }

        Apply(verbosity, (uint)value, span, log);
        return Results.Ok();
    }

    /// <summary>SET_LOGGING_LEVEL and the toggle both end here, so each change is logged the same way.</summary>
    public static void Apply(LogVerbosity verbosity, uint level, TimeSpan duration, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(verbosity);
        verbosity.Set(level, duration);
        Log.LevelSet(log, level, duration.TotalSeconds);
    }

    private static IResult Text(int status, string body) => Results.Text(body, "text/plain; charset=utf-8", statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Logging level set to {Level} for {Seconds}s")]
        public static partial void LevelSet(ILogger logger, uint level, double seconds);
    }
}

using Mezzo.Master.Actor;
using Mezzo.Protocol.Conversion;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.Http;

/// <summary>The read calls that need more than one actor round trip, and SUBSCRIBE's event stream.</summary>
public static partial class OperatorEndpoint
{
    /// <summary>The read calls' sub-messages, checked as the agent's API checks the same ones.</summary>
    private static string? ValidateRead(MasterCall call) => call.Type switch
    {
        MasterCallType.GET_METRICS => ReadCallValidation.Timeout(call.GetMetrics?.Timeout),
        MasterCallType.SET_LOGGING_LEVEL => ReadCallValidation.SetLoggingLevel(call.SetLoggingLevel),
        MasterCallType.LIST_FILES => ReadCallValidation.ListFiles(call.ListFiles),
        MasterCallType.READ_FILE => ReadCallValidation.ReadFile(call.ReadFile),
        _ => null,
    };

    /// <summary>
    /// The metrics snapshot; with a timeout, whatever is ready by then: if the actor has not answered, only the metrics
    /// that do not need it.
    /// </summary>
    private static async Task<IResult> GetMetricsAsync(MasterActor master, MasterCall call)
    {
        var snapshot = master.GetSnapshotAsync();
        IReadOnlyDictionary<string, double> metrics;
        if (ReadCallValidation.TimeoutOf(call.GetMetrics?.Timeout) is { } timeout)
        {
            using var cancel = new CancellationTokenSource();
            var first = await Task.WhenAny(snapshot, Task.Delay(timeout, master.Time, cancel.Token));
            await cancel.CancelAsync();
            metrics = first == snapshot ? (await snapshot).Metrics : master.MetricsWithoutActor();
        }
        else
        {
            metrics = (await snapshot).Metrics;
        }

        return Response(new MasterResponse
        {
            Type = MasterResponseType.GET_METRICS,
            GetMetrics = new MasterResponseGetMetrics
            {
                Metrics = [.. metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new Metric { Name = kv.Key, Value = kv.Value })],
            },
        });
    }

    private static Task<IResult> GetLoggingLevelAsync(MasterActor master, MasterCall call) => Respond(new MasterResponse
    {
        Type = MasterResponseType.GET_LOGGING_LEVEL,
        GetLoggingLevel = new MasterResponseGetLoggingLevel { Level = master.Verbosity.Level },
    });

    private static async Task<IResult> SetLoggingLevelAsync(MasterActor master, MasterCall call)
    {
        var set = call.SetLoggingLevel!;
        var level = set.Level!.Value;
        var duration = ReadCallValidation.DurationOf(set);
        await master.Ask(() =>
        {
            master.SetLoggingLevel(level, duration);
            return true;
        });
        return Results.Ok();
    }

    /// <summary>
    /// Mesos's master serves its log file under /master/log when started with --log_dir. Mezzo's master logs to
    /// standard output only, so no path names a file: Mesos's answer to a path nothing is attached at, 404.
    /// </summary>
    private static IResult NoFiles(string path) => HttpBodies.Text(StatusCodes.Status404NotFound,
        $"No file or directory at '{path}': the master serves no files (it logs to standard output; task sandboxes are on the agents' /api/v1)");

    /// <summary>SUBSCRIBE's answer: a RecordIO stream of master.proto Events, SUBSCRIBED first, until either side ends it.</summary>
    private sealed class EventStream(MasterActor master, Views.ViewFilter? view = null) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            MasterActor.OperatorSubscriber subscriber;
            try
            {
                subscriber = await master.Ask(() => master.SubscribeOperator(view));
            }
            catch (ObjectDisposedException)
            {
                await HttpBodies.Text(StatusCodes.Status503ServiceUnavailable, "The master is stopping").ExecuteAsync(context);
                return;
            }

            try
            {
                await RecordIOStreaming.WriteAsync(context, Guid.NewGuid().ToString(), subscriber.Events, MesosJsonContext.Default.MasterEvent);
            }
            finally
            {
                master.Post(() => master.UnsubscribeOperator(subscriber));
            }
        }
    }
}

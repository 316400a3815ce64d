using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Jobs.Engine;
using Mezzo.Jobs.Graph;
using Mezzo.Protocol.Chronos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Jobs.Http;

/// <summary>
/// Chronos's REST API, under /v1/scheduler (Chronos 2.4+) and /scheduler (earlier releases), with its status codes:
/// 204 on success, 400 with a reason on bad input or an unknown job.
/// </summary>
public static partial class JobsEndpoints
{
    // The agent's message for a command task's end, e.g. "Command exited with status 3".
    [System.Text.RegularExpressions.GeneratedRegex(@"exited with status (-?\d+)")]
    private static partial System.Text.RegularExpressions.Regex ExitCode();

    private const int MaxBody = 1 << 20;

    public static void Map(IEndpointRouteBuilder routes, JobsActor actor, JobsOptions options, Func<string> leader)
    {
        const AccessKind Read = AccessKind.ReadOnly, Write = AccessKind.ReadWrite;
        const AclAction View = AclAction.ViewJobs, Update = AclAction.UpdateJobs;
        routes.MapGet("/leader", () => Leader(leader)).Access(Read, View);
        routes.MapGet("/ping", Ping).Access(AccessKind.Public);
        foreach (var prefix in new[] { "/v1/scheduler", "/scheduler" })
        {
            var group = routes.MapGroup(prefix);
            group.MapPost("/iso8601", (Delegate)((HttpContext context) => UpsertAsync(context, actor, options, dependency: false))).Access(Write, Update);
            group.MapPost("/dependency", (Delegate)((HttpContext context) => UpsertAsync(context, actor, options, dependency: true))).Access(Write, Update);
            group.MapGet("/jobs", (HttpContext context) => Json(JobJson.ToUtf8(JobAccess.Visible(context, options, actor.Snapshot.Jobs).Values))).Access(Read, View);
            group.MapGet("/jobs/search", (HttpContext context) => Search(context, actor.Snapshot, options)).Access(Read, View);
            group.MapPut("/job/{name}", async (HttpContext context, string name, string? arguments) => !JobAccess.CanUpdate(context, options, name)
                ? JobAccess.Forbidden(context, $"run job '{name}'")
                : Answer(await actor.AskAsync((engine, now) => engine.Trigger(name, arguments, now)))).Access(Write, Update);
            group.MapDelete("/job/{name}", async (HttpContext context, string name) => !JobAccess.CanUpdate(context, options, name)
                ? JobAccess.Forbidden(context, $"delete job '{name}'")
                : Answer(await actor.AskAsync((engine, now) => engine.Delete(name, now)))).Access(Write, Update);
            group.MapPut("/job/success/{name}", async (HttpContext context, string name) =>
            {
                if (!JobAccess.CanUpdate(context, options, name))
                {
                    return JobAccess.Forbidden(context, $"mark job '{name}' as successful");
                }

                var error = await actor.AskAsync((engine, now) => engine.MarkSuccess(name, now));
                return error is null ? Results.Text($"marked job {name} as successful: true") : Answer(error);
            }).Access(Write, Update);
            group.MapGet("/job/stat/{name}", (HttpContext context, string name) => !JobAccess.CanView(context, options, name)
                ? JobAccess.Forbidden(context, $"see job '{name}'")
                : Stat(actor.Snapshot, name)).Access(Read, View);
            group.MapGet("/stats/{percentile}", (HttpContext context, string percentile) =>
                Stats(actor.Snapshot, percentile, JobAccess.Visible(context, options, actor.Snapshot.Jobs))).Access(Read, View);
            group.MapDelete("/task/kill/{name}", async (HttpContext context, string name) => !JobAccess.CanUpdate(context, options, name)
                ? JobAccess.Forbidden(context, $"kill the tasks of job '{name}'")
                : Answer(await actor.AskAsync((engine, now) => engine.KillTasks(name, now)))).Access(Write, Update);
            group.MapPut("/task/{taskId}", (HttpContext context, string taskId) => CompleteAsync(context, actor, options, taskId)).Access(Write, Update);
            group.MapPost("/task/{taskId}", (HttpContext context, string taskId) => CompleteAsync(context, actor, options, taskId)).Access(Write, Update);
            group.MapGet("/graph/dot", (HttpContext context) => Results.Text(JobGraph.Dot(JobAccess.Visible(context, options, actor.Snapshot.Jobs)), "text/plain"))
                .Access(Read, View);
            group.MapGet("/graph/csv", (HttpContext context) =>
            {
                var snapshot = actor.Snapshot;
                return Results.Text(JobGraph.Csv(JobAccess.Visible(context, options, snapshot.Jobs), snapshot.StateOf), "text/plain");
            }).Access(Read, View);
            group.MapGet("/leader", () => Leader(leader)).Access(Read, View);
        }
    }

    /// <summary>Chronos's <c>/ping</c> (its PingServlet): <c>pong</c> and a newline as text/plain, never cached.</summary>
    private static IResult Ping(HttpContext context)
    {
        context.Response.Headers.CacheControl = "must-revalidate,no-cache,no-store";
        return Results.Text("pong\n", "text/plain");
    }

    /// <summary>The same answer outside routing, for a standby that has no endpoints mapped.</summary>
    internal static Task PongAsync(HttpContext context) => Ping(context).ExecuteAsync(context);

    private static IResult Leader(Func<string> leader) => Json(Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("leader", leader());
        json.WriteEndObject();
    }));

    private static IResult Answer(EngineError? error) =>
        error is null ? Results.NoContent() : Results.Text(error.Message, "text/plain", statusCode: error.Status);

    /// <summary>Chronos's ApiResult body: {"message": ..., "status": "Bad Request"}.</summary>
    private static IResult ApiResult(string message) => Json(Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("message", message);
        json.WriteString("status", "Bad Request");
        json.WriteEndObject();
    }), StatusCodes.Status400BadRequest);

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBody)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBody)
            {
                return null;
            }
        }

        return buffer.ToArray();
    }

    private static async Task<IResult> UpsertAsync(HttpContext context, JobsActor actor, JobsOptions options, bool dependency)
    {
        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return Results.Text($"Request body larger than {MaxBody} bytes", "text/plain", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        Job job;
        try
        {
            job = JobJson.Parse(body, options.Defaults);
        }
        catch (JobValidationException ex)
        {
            return dependency ? Results.Text(ex.Message, "text/plain", statusCode: 400) : ApiResult(ex.Message);
        }

        if (!dependency && job.IsDependent)
        {
            return ApiResult($"Job '{job.Name}' has 'parents': post a dependent job to /v1/scheduler/dependency");
        }

        if (dependency && !job.IsDependent && !HasField(body, "parents"))
        {
            return Results.Text("Error, parent does not exist", "text/plain", statusCode: 400);
        }

        if (!JobAccess.CanUpdate(context, options, job.Name))
        {
            return JobAccess.Forbidden(context, $"create or change job '{job.Name}'");
        }

        // A job runs after its parents: depending on a job the principal cannot see would reveal when it runs.
        if (job.Parents.FirstOrDefault(parent => !JobAccess.CanView(context, options, parent)) is { } hidden)
        {
            return JobAccess.Forbidden(context, $"make job '{job.Name}' depend on job '{hidden}'");
        }

        var error = await actor.AskAsync((engine, now) => engine.Upsert(job, dependency, now));
        if (error is null)
        {
            return Results.NoContent();
        }

        return dependency ? Answer(error) : ApiResult(error.Message);
    }

    private static bool HasField(byte[] body, string name) => JsonNode.Parse(body, documentOptions: JobJson.DocumentOptions) is JsonObject o && o.ContainsKey(name);

    private static async Task<IResult> CompleteAsync(HttpContext context, JobsActor actor, JobsOptions options, string taskId)
    {
        // An async job's completion is a change to the job the task runs.
        if (actor.Snapshot.ActiveRuns.FirstOrDefault(run => run.TaskId == taskId) is { } run && !JobAccess.CanUpdate(context, options, run.JobName))
        {
            return JobAccess.Forbidden(context, $"complete a task of job '{run.JobName}'");
        }

        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return Results.Text($"Request body larger than {MaxBody} bytes", "text/plain", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        int statusCode;
        try
        {
            var node = JsonNode.Parse(body, documentOptions: JobJson.DocumentOptions) as JsonObject ?? throw new JsonException("expected an object");
            statusCode = node["statusCode"] is JsonValue v && v.TryGetValue<int>(out var code)
                ? code
                : throw new JsonException("'statusCode' (a whole number; 0 means success) is required");
        }
        catch (JsonException ex)
        {
            return Results.Text($"Expected {{\"statusCode\": N}}: {ex.Message}", "text/plain", statusCode: 400);
        }

        return Answer(await actor.AskAsync((engine, now) => engine.CompleteAsync(taskId, statusCode, now)));
    }

    private static IResult Search(HttpContext context, JobsSnapshot snapshot, JobsOptions options)
    {
        var query = context.Request.Query;
        static bool TryInt(string? text, int fallback, out int value)
        {
            value = fallback;
            return string.IsNullOrEmpty(text) || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 0);
        }

        if (!TryInt(query["limit"], 10, out var limit))
        {
            return Results.Text($"'limit' must be a whole number of 0 or more, not '{query["limit"]}'", "text/plain", statusCode: 400);
        }

        if (!TryInt(query["offset"], 0, out var offset))
        {
            return Results.Text($"'offset' must be a whole number of 0 or more, not '{query["offset"]}'", "text/plain", statusCode: 400);
        }

        string? name = query["name"], command = query["command"], any = query["any"];
        bool Contains(string text, string? term) => text.Contains(term!, StringComparison.OrdinalIgnoreCase);
        var jobs = JobAccess.Visible(context, options, snapshot.Jobs).Values.Where(job =>
        {
            // Chronos: name and command must both match when given; "any" can rescue a job that did not.
            var valid = (string.IsNullOrEmpty(name) || Contains(job.Name, name)) && (string.IsNullOrEmpty(command) || Contains(job.Command, command));
            return valid || (!string.IsNullOrEmpty(any) && (Contains(job.Name, any) || Contains(job.Command, any)));
        }).Skip(offset).Take(limit);
        return Json(JobJson.ToUtf8(jobs));
    }

    /// <summary>Chronos's job/stat: a histogram of run times (ms) and the recent runs.</summary>
    private static IResult Stat(JobsSnapshot snapshot, string name)
    {
        if (!snapshot.Jobs.ContainsKey(name))
        {
            return Results.Text($"Job '{name}' not found", "text/plain", statusCode: 400);
        }

        var history = snapshot.History.GetValueOrDefault(name, []);
        var runs = history.Concat(snapshot.ActiveRuns.Where(r => r.JobName == name)).ToList();
        return Json(Write(json =>
        {
            json.WriteStartObject();
            json.WritePropertyName("histogram");
            WriteHistogram(json, Durations(history));
            json.WriteStartArray("taskStatHistory");
            foreach (var run in runs.OrderByDescending(r => r.DueMs))
            {
                json.WriteStartObject();
                json.WriteString("taskId", run.TaskId);
                json.WriteString("jobName", run.JobName);
                json.WriteString("slaveId", run.AgentId ?? "");
                json.WriteString("startTime", run.StartedMs is { } s ? FormatStat(s) : "N/A");
                json.WriteString("endTime", run.EndedMs is { } e ? FormatStat(e) : "N/A");
                if (run.StartedMs is { } start && run.EndedMs is { } end)
                {
                    json.WriteString("duration", FormatDuration(TimeSpan.FromMilliseconds(end - start)));
                }

                json.WriteString("status", run.State switch
                {
                    RunState.Succeeded => "Success",
                    RunState.Failed or RunState.Killed => "Fail",
                    RunState.Running or RunState.Launching => "Running",
                    _ => "Idle",
                });
                // Beyond Chronos's fields: the attempt, the scheduled time and why a run ended (or was skipped).
                json.WriteNumber("attempt", run.Attempt);
                json.WriteString("scheduledTime", Job.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(run.DueMs)));
                json.WriteString("state", run.State.ToString());
                json.WriteString("message", run.Message);
                if (ExitCode().Match(run.Message) is { Success: true } exit)
                {
                    json.WriteNumber("exitCode", int.Parse(exit.Groups[1].Value, CultureInfo.InvariantCulture));
                }

                if (run.AgentUrl is { } agentUrl && run.AgentId is { } agentId && snapshot.FrameworkId is { } frameworkId)
                {
                    // A Mezzo agent's /files serves its sandboxes relative to its slaves directory, in Mesos's layout.
                    var path = $"{agentId}/frameworks/{frameworkId}/executors/{run.TaskId}/runs/latest";
                    json.WriteString("sandbox", $"{agentUrl}/files/browse?path={Uri.EscapeDataString(path)}");
                }
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }));
    }

    private static List<double> Durations(IEnumerable<Run> runs) =>
        [.. runs.Where(r => r.State == RunState.Succeeded && r.EndedMs is not null).Select(r => (double)(r.EndedMs!.Value - r.DueMs)).Order()];

    private static double Percentile(List<double> sorted, double quantile)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }

        // Codahale's Snapshot.getValue: linear interpolation at quantile × (n + 1).
        var position = quantile * (sorted.Count + 1);
        if (position < 1)
        {
            return sorted[0];
        }

        if (position >= sorted.Count)
        {
            return sorted[^1];
        }

        var lower = sorted[(int)position - 1];
        var upper = sorted[(int)position];
        return lower + ((position - Math.Floor(position)) * (upper - lower));
    }

    private static readonly (string Name, double Quantile)[] Quantiles =
        [("75thPercentile", 0.75), ("95thPercentile", 0.95), ("98thPercentile", 0.98), ("99thPercentile", 0.99), ("median", 0.5), ("mean", 0.5)];

    private static void WriteHistogram(Utf8JsonWriter json, List<double> sorted)
    {
        json.WriteStartObject();
        foreach (var (name, quantile) in Quantiles)
        {
            json.WriteNumber(name, Percentile(sorted, quantile));
        }

        json.WriteNumber("count", sorted.Count);
        json.WriteEndObject();
    }

    /// <summary>Chronos's stats/PERCENTILE: jobs by that run time, slowest first, in seconds.</summary>
    private static IResult Stats(JobsSnapshot snapshot, string percentile, IReadOnlyDictionary<string, Job> visible)
    {
        var quantile = Quantiles.FirstOrDefault(q => q.Name == percentile);
        return Json(Write(json =>
        {
            json.WriteStartArray();
            if (quantile.Name is not null)
            {
                var times = visible.Keys
                    .Select(name => (name, sorted: Durations(snapshot.History.GetValueOrDefault(name, []))))
                    .Where(p => p.sorted.Count > 0)
                    .Select(p => (p.name, time: Percentile(p.sorted, quantile.Quantile)))
                    .OrderByDescending(p => p.time);
                foreach (var (name, time) in times)
                {
                    json.WriteStartObject();
                    json.WriteString("jobNameLabel", name);
                    json.WriteNumber("time", time / 1000.0);
                    json.WriteEndObject();
                }
            }

            json.WriteEndArray();
        }));
    }

    private static string FormatStat(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("MM/dd/yy HH:mm:ss", CultureInfo.InvariantCulture);

    private static string FormatDuration(TimeSpan duration)
    {
        var text = "";
        if (duration.Days > 0)
        {
            text += $"{duration.Days}d";
        }

        if (duration.Hours > 0)
        {
            text += $"{duration.Hours}h";
        }

        if (duration.Minutes > 0)
        {
            text += $"{duration.Minutes}m";
        }

        return text + $"{duration.Seconds}s";
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JobJson.WriterOptions))
        {
            write(json);
        }

        return buffer.ToArray();
    }

    private static IResult Json(byte[] utf8, int status = StatusCodes.Status200OK) =>
        Results.Bytes(utf8, "application/json") is var ok && status == StatusCodes.Status200OK ? ok : new StatusBytes(utf8, status);

    private sealed class StatusBytes(byte[] body, int status) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "application/json";
            await httpContext.Response.Body.WriteAsync(body);
        }
    }
}

using System.Text;
using System.Text.Json;
using Mezzo.Agent.Sandbox;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Protocol.Conversion;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Agent.Http;

/// <summary>
/// <c>POST /api/v1</c> on the agent (also <c>/slave(1)/api/v1</c>): Mesos's v1 agent operator API, JSON in and out.
/// The read calls are served; any other call type is answered 501 Not Implemented, as Mesos answers a call it cannot
/// serve. Files are the task sandboxes, with the same confinement as /files.
/// </summary>
public static partial class OperatorEndpoint
{
    private const long MaxBodyBytes = 1024 * 1024;

    /// <summary>The Mesos release whose agent API this agent speaks (as its /version says).</summary>
    private const string MesosVersion = "1.11.0";

    /// <param name="service">Null until the agent has started (recovered its checkpoints): calls are then answered 503.</param>
    /// <param name="logging">The process's runtime logging level, for GET_LOGGING_LEVEL and SET_LOGGING_LEVEL.</param>
    /// <param name="acls">Decides, call by call, what the principal may do and see (see OperatorEndpoint.Security).</param>
    public static void Map(IEndpointRouteBuilder app, Func<AgentService?> service, string sandboxRoot, Logging logging, Acls acls)
    {
        foreach (var path in (string[])["/api/v1", "/slave(1)/api/v1"])
        {
            app.MapPost(path, async (HttpContext context) =>
            {
                var result = service() is { } started
                    ? await ProcessAsync(context, started, sandboxRoot, logging, new AgentViewer(acls, HttpSecurity.Principal(context)))
                    : Text(StatusCodes.Status503ServiceUnavailable, "Agent has not finished recovery");
                await result.ExecuteAsync(context);
            }).Access(
                AccessKind.ReadWrite,
                AclAction.ViewFrameworks,
                AclAction.ViewTasks,
                AclAction.ViewExecutors,
                AclAction.ViewContainers,
                AclAction.ViewFlags,
                AclAction.SetLogLevel,
                AclAction.AccessSandboxes);
        }
    }

    private static async Task<IResult> ProcessAsync(HttpContext context, AgentService service, string sandboxRoot, Logging logging, AgentViewer viewer)
    {
        var (call, error) = await ReadCallAsync(context.Request);
        if (error is { } refused)
        {
            return Text(refused.Status, refused.Message);
        }

        var type = call!.Type!.Value;
        logging.Processing(type);
        if (await RefuseAsync(call, service, sandboxRoot, viewer) is { } forbidden)
        {
            return forbidden;
        }

        try
        {
            var result = type switch
            {
                AgentOperatorCallType.GET_HEALTH => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_HEALTH,
                    GetHealth = new MasterResponseGetHealth { Healthy = await service.PingAsync() },
                }),
                AgentOperatorCallType.GET_FLAGS => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_FLAGS,
                    GetFlags = new MasterResponseGetFlags { Flags = await service.GetFlagsAsync() },
                }),
                AgentOperatorCallType.GET_VERSION => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_VERSION,
                    GetVersion = new MasterResponseGetVersion { VersionInfo = new VersionInfo { Version = MesosVersion, BuildDate = "", BuildTime = 0, BuildUser = "" } },
                }),
                AgentOperatorCallType.GET_METRICS => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_METRICS,
                    GetMetrics = new MasterResponseGetMetrics { Metrics = await MetricsAsync(service, call.GetMetrics?.Timeout) },
                }),
                AgentOperatorCallType.GET_STATE => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_STATE,
                    GetState = await service.GetOperatorStateAsync(),
                }),
                AgentOperatorCallType.GET_CONTAINERS => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_CONTAINERS,
                    GetContainers = new AgentOperatorResponseGetContainers { Containers = await service.GetContainersAsync() },
                }),
                AgentOperatorCallType.GET_FRAMEWORKS => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_FRAMEWORKS,
                    GetFrameworks = await service.GetOperatorFrameworksAsync(),
                }),
                AgentOperatorCallType.GET_EXECUTORS => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_EXECUTORS,
                    GetExecutors = await service.GetOperatorExecutorsAsync(),
                }),
                AgentOperatorCallType.GET_TASKS => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_TASKS,
                    GetTasks = await service.GetOperatorTasksAsync(),
                }),
                AgentOperatorCallType.GET_AGENT => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_AGENT,
                    GetAgent = await service.GetOperatorAgentAsync(),
                }),
                AgentOperatorCallType.GET_LOGGING_LEVEL => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.GET_LOGGING_LEVEL,
                    GetLoggingLevel = new MasterResponseGetLoggingLevel { Level = logging.Verbosity.Level },
                }),
                AgentOperatorCallType.SET_LOGGING_LEVEL => logging.Set(call.SetLoggingLevel!),
                AgentOperatorCallType.LIST_FILES => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.LIST_FILES,
                    ListFiles = new MasterResponseListFiles { FileInfos = await Task.Run(() => ListFiles(sandboxRoot, call.ListFiles!.Path!)) },
                }),
                AgentOperatorCallType.READ_FILE => Response(new AgentOperatorResponse
                {
                    Type = AgentOperatorResponseType.READ_FILE,
                    ReadFile = await Task.Run(() => ReadFile(sandboxRoot, call.ReadFile!)),
                }),
                _ => Text(StatusCodes.Status501NotImplemented, $"{type} is not supported by this agent"),
            };
            if (result is EncodedResponse encoded)
            {
                await FilterAsync(encoded.Response, service, viewer);
            }

            return result;
        }
        catch (SandboxFileException ex)
        {
            return Text(ex.Kind == SandboxFileErrorKind.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, ex.Message);
        }
    }

    /// <summary>Media types, body size, JSON and the call's required parts, in Mesos's words where it has some.</summary>
    public static async Task<(AgentOperatorCall? Call, (int Status, string Message)? Error)> ReadCallAsync(HttpRequest request)
    {
        var (call, error) = await CallBodies.ReadAsync<AgentOperatorCall>(request, MaxBodyBytes, "Call");
        if (error is not null)
        {
            return (null, error);
        }

        if (call is null)
        {
            return (null, (400, "Failed to parse body into Call: empty body"));
        }

        var invalid = call.Type switch
        {
            null => "Expecting 'type' to be present",
            AgentOperatorCallType.GET_METRICS => ReadCallValidation.Timeout(call.GetMetrics?.Timeout),
            AgentOperatorCallType.SET_LOGGING_LEVEL => ReadCallValidation.SetLoggingLevel(call.SetLoggingLevel),
            AgentOperatorCallType.LIST_FILES => ReadCallValidation.ListFiles(call.ListFiles),
            AgentOperatorCallType.READ_FILE => ReadCallValidation.ReadFile(call.ReadFile),
            _ => null,
        };
        return invalid is null ? (call, null) : (null, (400, $"Failed to validate agent::Call: {invalid}"));
    }

    private static async Task<List<Metric>> MetricsAsync(AgentService service, DurationInfo? timeoutInfo)
    {
        var metrics = service.GetMetricsAsync();
        IReadOnlyDictionary<string, double> values;
        if (ReadCallValidation.TimeoutOf(timeoutInfo) is { } timeout)
        {
            using var cancel = new CancellationTokenSource();
            var first = await Task.WhenAny(metrics, Task.Delay(timeout, service.Time, cancel.Token));
            await cancel.CancelAsync();
            values = first == metrics ? await metrics : service.MetricsWithoutActor();
        }
        else
        {
            values = await metrics;
        }

        return [.. values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new Metric { Name = kv.Key, Value = kv.Value })];
    }

    private static List<MesosFileInfo> ListFiles(string sandboxRoot, string path) =>
        [.. SandboxFiles.Browse(sandboxRoot, path).Select(entry => new MesosFileInfo
        {
            Path = entry.Path,
            Nlink = (int)Math.Min(entry.Nlink, int.MaxValue),
            Size = (ulong)Math.Max(entry.Size, 0),
            Mtime = new TimeInfo { Nanoseconds = (long)(entry.Mtime * 1_000_000_000) },
            Mode = entry.ModeBits,
            Uid = entry.Uid,
            Gid = entry.Gid,
        })];

    private static MasterResponseReadFile ReadFile(string sandboxRoot, MasterCallReadFile read)
    {
        var chunk = SandboxFiles.ReadBytes(sandboxRoot, read.Path!, (long)read.Offset!.Value, ReadCallValidation.LengthOf(read), ReadCallValidation.MaxReadLength);
        return new MasterResponseReadFile
        {
            Size = (ulong)chunk.Size,
            Data = chunk.Count == chunk.Data.Length ? chunk.Data : chunk.Data[..chunk.Count],
        };
    }

    private static IResult Response(AgentOperatorResponse response) => new EncodedResponse(response);

    /// <summary>The response in the encoding <see cref="ReadCallAsync"/> negotiated for the request.</summary>
    private sealed class EncodedResponse(AgentOperatorResponse response) : IResult
    {
        public AgentOperatorResponse Response => response;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var format = httpContext.Items.TryGetValue(typeof(Negotiated), out var value) && value is Negotiated negotiated
                ? negotiated.Response
                : WireFormat.Json;
            return Results.Bytes(MesosWire.Serialize(format, response), ContentNegotiation.MediaType(format)).ExecuteAsync(httpContext);
        }
    }

    private static IResult Text(int status, string message) =>
        Results.Text(message, "text/plain; charset=utf-8", Encoding.UTF8, status);
}

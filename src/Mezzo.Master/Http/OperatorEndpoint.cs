using System.Globalization;
using System.Text.Json;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>
/// <c>POST /api/v1</c> (also <c>/master/api/v1</c>): the Mesos v1 operator API, JSON in and out. Parsing and the
/// presence of the call's sub-message are checked here; everything that reads or changes cluster state runs on the
/// actor. A call type is implemented by adding it to <see cref="Handlers"/>; one that is missing there is answered
/// 501 Not Implemented, as Mesos answers a call it does not know how to serve.
/// </summary>
public static partial class OperatorEndpoint
{
    private delegate Task<IResult> Handler(MasterActor master, MasterCall call);

    private static readonly Dictionary<MasterCallType, Handler> Handlers = new()
    {
        [MasterCallType.GET_HEALTH] = GetHealthAsync,
        [MasterCallType.GET_FLAGS] = (master, _) => Respond(new MasterResponse
        {
            Type = MasterResponseType.GET_FLAGS,
            GetFlags = new MasterResponseGetFlags { Flags = Flags(master.Options) },
        }),
        [MasterCallType.GET_VERSION] = (_, _) => Respond(new MasterResponse
        {
            Type = MasterResponseType.GET_VERSION,
            GetVersion = new MasterResponseGetVersion { VersionInfo = Version() },
        }),
        [MasterCallType.GET_ROLES] = GetRolesAsync,
        [MasterCallType.GET_METRICS] = GetMetricsAsync,
        [MasterCallType.GET_LOGGING_LEVEL] = GetLoggingLevelAsync,
        [MasterCallType.SET_LOGGING_LEVEL] = SetLoggingLevelAsync,
        [MasterCallType.LIST_FILES] = (_, call) => Task.FromResult(NoFiles(call.ListFiles!.Path!)),
        [MasterCallType.READ_FILE] = (_, call) => Task.FromResult(NoFiles(call.ReadFile!.Path!)),
        [MasterCallType.GET_STATE] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_STATE,
            GetState = await master.Ask(master.GetStateResponse),
        }),
        [MasterCallType.GET_AGENTS] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_AGENTS,
            GetAgents = await master.Ask(master.GetAgentsResponse),
        }),
        [MasterCallType.GET_FRAMEWORKS] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_FRAMEWORKS,
            GetFrameworks = await master.Ask(master.GetFrameworksResponse),
        }),
        [MasterCallType.GET_EXECUTORS] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_EXECUTORS,
            GetExecutors = await master.Ask(master.GetExecutorsResponse),
        }),
        [MasterCallType.GET_TASKS] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_TASKS,
            GetTasks = await master.Ask(master.GetTasksResponse),
        }),
        [MasterCallType.GET_MASTER] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_MASTER,
            GetMaster = await master.Ask(master.GetMasterResponse),
        }),
        // Offer operations are applied when the ACCEPT arrives; the master keeps none pending to report.
        [MasterCallType.GET_OPERATIONS] = (_, _) => Respond(new MasterResponse
        {
            Type = MasterResponseType.GET_OPERATIONS,
            GetOperations = new MasterResponseGetOperations { Operations = [] },
        }),
        [MasterCallType.SUBSCRIBE] = (master, _) => Task.FromResult<IResult>(new EventStream(master)),
        [MasterCallType.GET_WEIGHTS] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_WEIGHTS,
            GetWeights = new MasterResponseGetWeights { WeightInfos = [.. await master.Ask(master.GetWeights)] },
        }),
        [MasterCallType.UPDATE_WEIGHTS] = async (master, call) =>
        {
            var infos = call.UpdateWeights!.WeightInfos ?? [];
            return infos.Contains(null!)
                ? HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to validate master::Call: 'update_weights.weight_infos' contains null")
                : Outcome(await master.Ask(() => master.UpdateWeights(infos)));
        },
        [MasterCallType.GET_QUOTA] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_QUOTA,
            GetQuota = new MasterResponseGetQuota { Status = await master.Ask(master.GetQuotaStatus) },
        }),
        [MasterCallType.UPDATE_QUOTA] = async (master, call) =>
        {
            var configs = call.UpdateQuota!.QuotaConfigs ?? [];
            return configs.Contains(null!)
                ? HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to validate master::Call: 'update_quota.quota_configs' contains null")
                : Outcome(await master.Ask(() => master.UpdateQuota(configs, call.UpdateQuota.Force ?? false)));
        },
        [MasterCallType.SET_QUOTA] = async (master, call) =>
        {
            var request = call.SetQuota!.QuotaRequest!;
            return request.Guarantee?.Contains(null!) == true
                ? HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to validate master::Call: 'set_quota.quota_request.guarantee' contains null")
                : Outcome(await master.Ask(() => master.SetQuota(request)));
        },
        [MasterCallType.REMOVE_QUOTA] = async (master, call) => Outcome(await master.Ask(() => master.RemoveQuota(call.RemoveQuota!.Role!))),
        [MasterCallType.RESERVE_RESOURCES] = async (master, call) =>
        {
            var reserve = call.ReserveResources!;
            return Outcome(await master.Ask(() => master.ReserveResources(reserve.AgentId!.Value!, reserve.Source, reserve.Resources, principal: null)));
        },
        [MasterCallType.UNRESERVE_RESOURCES] = async (master, call) =>
        {
            var unreserve = call.UnreserveResources!;
            return Outcome(await master.Ask(() => master.UnreserveResources(unreserve.AgentId!.Value!, unreserve.Resources)));
        },
        [MasterCallType.DRAIN_AGENT] = async (master, call) =>
        {
            var drain = call.DrainAgent!;
            TimeSpan? grace = drain.MaxGracePeriod?.Nanoseconds is { } ns ? TimeSpan.FromTicks(ns / 100) : null;
            return Outcome(await master.Ask(() => master.DrainAgent(drain.AgentId!.Value!, grace, drain.MarkGone ?? false)));
        },
        [MasterCallType.DEACTIVATE_AGENT] = async (master, call) => Outcome(await master.Ask(() => master.DeactivateAgent(call.DeactivateAgent!.AgentId!.Value!))),
        [MasterCallType.REACTIVATE_AGENT] = async (master, call) => Outcome(await master.Ask(() => master.ReactivateAgent(call.ReactivateAgent!.AgentId!.Value!))),
        [MasterCallType.GET_MAINTENANCE_SCHEDULE] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_MAINTENANCE_SCHEDULE,
            GetMaintenanceSchedule = new MasterResponseGetMaintenanceSchedule { Schedule = await master.Ask(master.GetMaintenanceSchedule) },
        }),
        [MasterCallType.GET_MAINTENANCE_STATUS] = async (master, _) => Response(new MasterResponse
        {
            Type = MasterResponseType.GET_MAINTENANCE_STATUS,
            GetMaintenanceStatus = new MasterResponseGetMaintenanceStatus { Status = await master.Ask(master.GetMaintenanceStatus) },
        }),
        [MasterCallType.UPDATE_MAINTENANCE_SCHEDULE] = async (master, call) =>
            Outcome(await master.Ask(() => master.UpdateMaintenanceSchedule(call.UpdateMaintenanceSchedule!.Schedule!))),
        [MasterCallType.START_MAINTENANCE] = async (master, call) =>
            Outcome(await master.Ask(() => master.StartMaintenance(call.StartMaintenance!.Machines ?? []))),
        [MasterCallType.STOP_MAINTENANCE] = async (master, call) =>
            Outcome(await master.Ask(() => master.StopMaintenance(call.StopMaintenance!.Machines ?? []))),
        [MasterCallType.MARK_AGENT_GONE] = async (master, call) => Outcome(await master.Ask(() => master.MarkAgentGone(call.MarkAgentGone!.AgentId!.Value!))),
        [MasterCallType.TEARDOWN] = async (master, call) => Outcome(await master.Ask(() => master.TeardownFramework(call.Teardown!.FrameworkId!.Value!))),
    };

    public static void Map(IEndpointRouteBuilder app, MasterActor master)
    {
        foreach (var path in (string[])["/api/v1", "/master/api/v1"])
        {
            app.MapPost(path, (HttpContext context) => HandleAsync(context, master)).Access(AccessKind.ReadWrite, Gates);
        }
    }

    public static async Task HandleAsync(HttpContext context, MasterActor master)
    {
        var result = await ProcessAsync(context, master);
        await result.ExecuteAsync(context);
    }

    private static async Task<IResult> ProcessAsync(HttpContext context, MasterActor master)
    {
        if (HttpBodies.CheckMediaTypes(context.Request) is { } mediaError)
        {
            return mediaError;
        }

        var (call, parseError) = await HttpBodies.ReadCallAsync<MasterCall>(context.Request, master.Options.MaxRequestBodyBytes, "Call");
        if (parseError is not null)
        {
            return parseError;
        }

        if (call is null)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse body into Call: empty body");
        }

        if (Validate(call) is { } invalid)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to validate master::Call: {invalid}");
        }

        var type = call.Type!.Value;
        master.LogOperatorCall(type);
        if (await AuthorizeAsync(context, master, call) is { } authorized)
        {
            return authorized;
        }

        if (ViewEndpoints.For(context, master) is { } view && FilteredRead(master, call, view) is { } filtered)
        {
            return await filtered;
        }

        return Handlers.TryGetValue(type, out var handler)
            ? await handler(master, call)
            : HttpBodies.Text(StatusCodes.Status501NotImplemented, $"{type} is not supported by this master yet");
    }

    /// <summary>Mesos's <c>validation::master::call::validate</c>: the sub-message a call type needs is present.</summary>
    private static string? Validate(MasterCall call) => call.Type switch
    {
        null => "Expecting 'type' to be present",
        MasterCallType.UPDATE_WEIGHTS when call.UpdateWeights is null => "Expecting 'update_weights' to be present",
        MasterCallType.UPDATE_QUOTA when call.UpdateQuota is null => "Expecting 'update_quota' to be present",
        MasterCallType.SET_QUOTA when call.SetQuota is null => "Expecting 'set_quota' to be present",
        MasterCallType.SET_QUOTA when call.SetQuota!.QuotaRequest is null => "Expecting 'set_quota.quota_request' to be present",
        MasterCallType.REMOVE_QUOTA when call.RemoveQuota is null => "Expecting 'remove_quota' to be present",
        MasterCallType.REMOVE_QUOTA when string.IsNullOrEmpty(call.RemoveQuota!.Role) => "Expecting 'remove_quota.role' to be present",
        MasterCallType.RESERVE_RESOURCES when call.ReserveResources?.AgentId?.Value is not { Length: > 0 } => "Expecting 'reserve_resources.agent_id' to be present",
        MasterCallType.UNRESERVE_RESOURCES when call.UnreserveResources?.AgentId?.Value is not { Length: > 0 } => "Expecting 'unreserve_resources.agent_id' to be present",
        MasterCallType.DRAIN_AGENT when call.DrainAgent?.AgentId?.Value is not { Length: > 0 } => "Expecting 'drain_agent.agent_id' to be present",
        MasterCallType.DRAIN_AGENT when call.DrainAgent!.MaxGracePeriod is { Nanoseconds: null or < 0 } => "'drain_agent.max_grace_period.nanoseconds' must be a non-negative number",
        MasterCallType.DEACTIVATE_AGENT when call.DeactivateAgent?.AgentId?.Value is not { Length: > 0 } => "Expecting 'deactivate_agent.agent_id' to be present",
        MasterCallType.REACTIVATE_AGENT when call.ReactivateAgent?.AgentId?.Value is not { Length: > 0 } => "Expecting 'reactivate_agent.agent_id' to be present",
        MasterCallType.UPDATE_MAINTENANCE_SCHEDULE when call.UpdateMaintenanceSchedule?.Schedule is null => "Expecting 'update_maintenance_schedule.schedule' to be present",
        MasterCallType.START_MAINTENANCE when call.StartMaintenance is null => "Expecting 'start_maintenance' to be present",
        MasterCallType.STOP_MAINTENANCE when call.StopMaintenance is null => "Expecting 'stop_maintenance' to be present",
        MasterCallType.MARK_AGENT_GONE when call.MarkAgentGone?.AgentId?.Value is not { Length: > 0 } => "Expecting 'mark_agent_gone.agent_id' to be present",
        MasterCallType.TEARDOWN when call.Teardown?.FrameworkId?.Value is not { Length: > 0 } => "Expecting 'teardown.framework_id' to be present",
        _ => ValidateRead(call),
    };

    private static async Task<IResult> GetHealthAsync(MasterActor master, MasterCall call)
    {
        // A round trip through the actor: a master whose loop is stuck answers late, or not at all, which is what
        // Mesos means by "delayed responses are also indicative of the poor health of the master".
        var healthy = await master.Ask(() => true);
        return Response(new MasterResponse
        {
            Type = MasterResponseType.GET_HEALTH,
            GetHealth = new MasterResponseGetHealth { Healthy = healthy },
        });
    }

    private static async Task<IResult> GetRolesAsync(MasterActor master, MasterCall call) =>
        RolesResponse(await master.Ask(master.GetRoles));

    private static IResult RolesResponse(IEnumerable<RoleReport> roles)
    {
        return Response(new MasterResponse
        {
            Type = MasterResponseType.GET_ROLES,
            GetRoles = new MasterResponseGetRoles
            {
                Roles = [.. roles.Select(role => new Role
                {
                    Name = role.Name,
                    Weight = role.Weight,
                    Frameworks = [.. role.Frameworks.Select(id => new FrameworkID { Value = id })],
                    // What Mesos puts in the deprecated `resources`: allocated plus offered quantities.
                    Resources = [.. role.Allocated.Add(role.Offered).Select(kv => new Resource
                    {
                        Name = kv.Key,
                        Type = Protocol.V1.ValueType.SCALAR,
                        Scalar = new ValueScalar { Value = kv.Value / 1000.0 },
                    })],
                })],
            },
        });
    }

    /// <summary>The master's flags as Mesos names and prints them.</summary>
    public static List<Flag> Flags(MasterOptions options)
    {
        static string Seconds(TimeSpan t) => $"{t.TotalSeconds.ToString(CultureInfo.InvariantCulture)}secs";
        var flags = new List<Flag>
        {
            new() { Name = "agent_ping_timeout", Value = Seconds(options.AgentPingTimeout) },
            new() { Name = "authenticate_agents", Value = options.Security.AuthenticateAgents ? "true" : "false" },
            new() { Name = "authenticate_frameworks", Value = options.Security.AuthenticateFrameworks ? "true" : "false" },
            new() { Name = "authenticate_http_readonly", Value = options.Security.AuthenticateHttpReadonly ? "true" : "false" },
            new() { Name = "authenticate_http_readwrite", Value = options.Security.AuthenticateHttpReadwrite ? "true" : "false" },
            new() { Name = "allocation_interval", Value = $"{options.AllocationInterval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms" },
            new() { Name = "hostname", Value = options.Hostname },
            new() { Name = "ip", Value = options.Ip },
            new() { Name = "max_agent_ping_timeouts", Value = options.MaxAgentPingTimeouts.ToString(CultureInfo.InvariantCulture) },
            new() { Name = "max_completed_frameworks", Value = options.MaxCompletedFrameworks.ToString(CultureInfo.InvariantCulture) },
            new() { Name = "min_allocatable_resources", Value = options.MinAllocatableResources },
            new() { Name = "max_completed_tasks_per_framework", Value = options.MaxCompletedTasksPerFramework.ToString(CultureInfo.InvariantCulture) },
            new() { Name = "max_operator_event_stream_subscribers", Value = options.MaxOperatorEventStreamSubscribers.ToString(CultureInfo.InvariantCulture) },
            new() { Name = "port", Value = options.Port.ToString(CultureInfo.InvariantCulture) },
            new() { Name = "work_dir", Value = options.WorkDir },
        };
        if (options.Cluster is not null)
        {
            flags.Add(new Flag { Name = "cluster", Value = options.Cluster });
        }

        if (options.OfferTimeout is { } offerTimeout)
        {
            flags.Add(new Flag { Name = "offer_timeout", Value = Seconds(offerTimeout) });
        }

        if (!string.IsNullOrWhiteSpace(options.Weights))
        {
            flags.Add(new Flag { Name = "weights", Value = options.Weights });
        }

        return [.. flags.OrderBy(f => f.Name, StringComparer.Ordinal)];
    }

    private static VersionInfo Version() => new()
    {
        Version = MezzoVersion.MesosCompatible,
        BuildDate = "",
        BuildTime = 0,
        BuildUser = "",
    };

    private static Task<IResult> Respond(MasterResponse response) => Task.FromResult(Response(response));

    private static IResult Response(MasterResponse response) =>
        HttpBodies.Encoded(response);

    /// <summary>Mesos answers a successful change with an empty 200, a refused one with a plain-text reason.</summary>
    internal static IResult Outcome(CallResult result) =>
        result.IsSuccess ? Results.StatusCode(result.StatusCode) : HttpBodies.Text(result.StatusCode, result.Error ?? "");
}

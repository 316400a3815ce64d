using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Mesos's maintenance primitives (docs/maintenance.md). Machines in the schedule are DRAINING: their agents keep
/// getting offers, which carry the window's <c>unavailability</c> so frameworks can plan. START_MAINTENANCE takes
/// scheduled machines DOWN: their agents get no offers, their tasks are killed, and agents of a DOWN machine cannot
/// register. STOP_MAINTENANCE brings them UP: out of the schedule, agents reactivated. Mesos removes the agents of a DOWN
/// machine outright; Mezzo drains and deactivates them instead, so frameworks see the same task ends and the agent
/// returns to service without re-registering. Schedule and DOWN machines are persisted before they take effect.
/// </summary>
public sealed partial class MasterActor
{
    // Schedule and DOWN machines in one registry value, so a change to both is written at once or not at all.
    private const string MaintenanceKey = "maintenance";

    private MaintenanceSchedule _schedule = new() { Windows = [] };

    private readonly HashSet<MachineKey> _downMachines = [];

    /// <summary>A machine as Mesos normalizes it: hostname lower-cased, IP as given.</summary>
    private readonly record struct MachineKey(string? Hostname, string? Ip)
    {
        public static MachineKey Of(MachineID id) => new(id.Hostname?.ToLowerInvariant(), id.Ip);

        public MachineID ToWire() => new() { Hostname = Hostname, Ip = Ip };

        /// <summary>Mezzo agents advertise one address, used as hostname and IP alike.</summary>
        public bool Matches(AgentEntry agent) => Matches(agent.Hostname);

        public bool Matches(string address) =>
            (Hostname is null || string.Equals(Hostname, address, StringComparison.OrdinalIgnoreCase))
            && (Ip is null || Ip == address);

        public override string ToString() => $"{Hostname ?? ""} ({Ip ?? ""})";
    }

    public MaintenanceSchedule GetMaintenanceSchedule() => MesosJson.Clone(_schedule);

    public MaintenanceClusterStatus GetMaintenanceStatus() => new()
    {
        DrainingMachines = [.. ScheduledMachines().Where(m => !_downMachines.Contains(m)).Select(m => new MaintenanceDrainingMachine
        {
            Id = m.ToWire(),
            Statuses = InverseOfferStatusesOf(m),
        })],
        DownMachines = [.. _downMachines.Select(m => m.ToWire())],
    };

    /// <summary>UPDATE_MAINTENANCE_SCHEDULE: replaces the whole schedule; a DOWN machine must stay in it.</summary>
    public CallResult UpdateMaintenanceSchedule(MaintenanceSchedule schedule)
    {
        var seen = new HashSet<MachineKey>();
        foreach (var window in schedule.Windows ?? [])
        {
            if (window is null || window.MachineIds is not { Count: > 0 })
            {
                return CallResult.BadRequest("Invalid maintenance schedule: a window must contain at least one machine");
            }

            if (window.Unavailability?.Start?.Nanoseconds is null)
            {
                return CallResult.BadRequest("Invalid maintenance schedule: a window must have 'unavailability.start'");
            }

            if (window.Unavailability.Duration is { } duration && duration.Nanoseconds is null or < 0)
            {
                return CallResult.BadRequest("Invalid maintenance schedule: 'unavailability.duration' must be a non-negative number of nanoseconds");
            }

            foreach (var machine in window.MachineIds)
            {
                if (ValidateMachine(machine) is { } error)
                {
                    return CallResult.BadRequest($"Invalid maintenance schedule: {error}");
                }

                if (!seen.Add(MachineKey.Of(machine)))
                {
                    return CallResult.BadRequest($"Invalid maintenance schedule: machine {MachineKey.Of(machine)} appears in more than one window");
                }
            }
        }

        foreach (var down in _downMachines)
        {
            if (!seen.Contains(down))
            {
                return CallResult.BadRequest($"Machine {down} is DOWN and cannot be removed from the schedule; STOP_MAINTENANCE it first");
            }
        }

        var normalized = new MaintenanceSchedule
        {
            Windows = [.. (schedule.Windows ?? []).Select(w => new MaintenanceWindow
            {
                MachineIds = [.. w.MachineIds!.Select(m => MachineKey.Of(m).ToWire())],
                Unavailability = w.Unavailability,
            })],
        };
        if (PersistMaintenance(normalized, _downMachines) is { } failed)
        {
            return failed;
        }

        // Machines leaving the schedule lose their answers too (Mesos's updateUnavailability with no window).
        var touched = seen.Union(ScheduledMachines()).ToList();
        _schedule = normalized;
        Log.MaintenanceScheduleUpdated(_log, seen.Count);
        _version++;

        // Offers made before carry stale (or no) unavailability; inverse offers are rescinded and asked again for the
        // new window, with no answers and no filters left from the old one, as Mesos's updateUnavailability does.
        foreach (var agent in _agents.Values.Where(a => touched.Any(m => m.Matches(a))).ToList())
        {
            RescindAgentOffers(agent);
            ForgetAgentInverseOffers(agent.AgentId);
        }

        return CallResult.Ok;
    }

    /// <summary>START_MAINTENANCE: scheduled machines go DOWN; their agents are drained and deactivated.</summary>
    public CallResult StartMaintenance(IReadOnlyList<MachineID> machines)
    {
        if (ValidateMachineList(machines) is { } error)
        {
            return CallResult.BadRequest(error);
        }

        var scheduled = ScheduledMachines().ToHashSet();
        foreach (var machine in machines.Select(MachineKey.Of))
        {
            if (!scheduled.Contains(machine))
            {
                return CallResult.BadRequest($"Machine {machine} is not part of a maintenance schedule");
            }

            if (_downMachines.Contains(machine))
            {
                return CallResult.BadRequest($"Machine {machine} is already DOWN");
            }
        }

        if (PersistMaintenance(_schedule, _downMachines.Union(machines.Select(MachineKey.Of))) is { } failed)
        {
            return failed;
        }

        foreach (var machine in machines.Select(MachineKey.Of))
        {
            _downMachines.Add(machine);
            Log.MachineDown(_log, machine.ToString());
            foreach (var agent in _agents.Values.Where(a => a.Liveness != AgentLiveness.Gone && machine.Matches(a)).ToList())
            {
                DrainAgent(agent.AgentId, maxGracePeriod: null, markGone: false);
            }
        }

        _version++;
        return CallResult.Ok;
    }

    /// <summary>STOP_MAINTENANCE: DOWN machines come UP, leave the schedule, and their agents are reactivated.</summary>
    public CallResult StopMaintenance(IReadOnlyList<MachineID> machines)
    {
        if (ValidateMachineList(machines) is { } error)
        {
            return CallResult.BadRequest(error);
        }

        var up = machines.Select(MachineKey.Of).ToHashSet();
        foreach (var machine in up)
        {
            if (!_downMachines.Contains(machine))
            {
                return CallResult.BadRequest($"Machine {machine} is not DOWN");
            }
        }

        var schedule = new MaintenanceSchedule
        {
            Windows = [.. (_schedule.Windows ?? [])
                .Select(w => new MaintenanceWindow { MachineIds = [.. w.MachineIds!.Where(m => !up.Contains(MachineKey.Of(m)))], Unavailability = w.Unavailability })
                .Where(w => w.MachineIds!.Count > 0)],
        };
        if (PersistMaintenance(schedule, _downMachines.Except(up)) is { } failed)
        {
            return failed;
        }

        _schedule = schedule;
        _downMachines.ExceptWith(up);
        foreach (var machine in up)
        {
            Log.MachineUp(_log, machine.ToString());
            foreach (var agent in _agents.Values.Where(machine.Matches).ToList())
            {
                ForgetAgentInverseOffers(agent.AgentId);
            }

            foreach (var agent in _agents.Values.Where(a => a.Deactivated && a.Liveness != AgentLiveness.Gone && machine.Matches(a)).ToList())
            {
                ReactivateAgent(agent.AgentId);
            }
        }

        _version++;
        return CallResult.Ok;
    }

    /// <summary>Whether a new agent at <paramref name="hostname"/> is on a DOWN machine (Mesos refuses its registration).</summary>
    private bool IsOnDownMachine(string hostname) => _downMachines.Any(m => m.Matches(hostname));

    /// <summary>The unavailability of the window the agent's machine is in, for its offers.</summary>
    private Unavailability? UnavailabilityOf(AgentEntry agent)
    {
        foreach (var window in _schedule.Windows ?? [])
        {
            foreach (var machine in window.MachineIds ?? [])
            {
                if (MachineKey.Of(machine).Matches(agent))
                {
                    return window.Unavailability;
                }
            }
        }

        return null;
    }

    private IEnumerable<MachineKey> ScheduledMachines() =>
        (_schedule.Windows ?? []).SelectMany(w => w.MachineIds ?? []).Select(MachineKey.Of);

    private static string? ValidateMachineList(IReadOnlyList<MachineID>? machines)
    {
        if (machines is not { Count: > 0 })
        {
            return "Expecting at least one machine";
        }

        foreach (var machine in machines)
        {
            if (ValidateMachine(machine) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Mesos's MachineID validation: a hostname or an IP (or both), the IP a valid address.</summary>
    private static string? ValidateMachine(MachineID? machine)
    {
        if (machine is null || (string.IsNullOrEmpty(machine.Hostname) && string.IsNullOrEmpty(machine.Ip)))
        {
            return "a machine must have a 'hostname' or an 'ip'";
        }

        if (machine.Ip is { Length: > 0 } ip && !IPAddress.TryParse(ip, out _))
        {
            return $"'{ip}' is not a valid IP address";
        }

        return null;
    }

    private CallResult? PersistMaintenance(MaintenanceSchedule schedule, IEnumerable<MachineKey> down)
    {
        var json = new JsonObject
        {
            ["schedule"] = JsonSerializer.SerializeToNode(schedule, MesosJsonContext.Default.MaintenanceSchedule),
            ["down_machines"] = JsonSerializer.SerializeToNode(down.Select(m => m.ToWire()).ToList(), MesosJsonContext.Default.ListMachineID),
        };
        return Persist(MaintenanceKey, json.ToJsonString());
    }

    private void RecoverMaintenance()
    {
        if (_registry.GetValue(MaintenanceKey) is not { } text)
        {
            return;
        }

        try
        {
            var json = JsonNode.Parse(text)!.AsObject();
            _schedule = json["schedule"].Deserialize(MesosJsonContext.Default.MaintenanceSchedule) ?? _schedule;
            foreach (var machine in json["down_machines"].Deserialize(MesosJsonContext.Default.ListMachineID) ?? [])
            {
                _downMachines.Add(MachineKey.Of(machine));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            Log.MaintenanceUnreadable(_log, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Maintenance schedule updated: {Machines} machines scheduled")]
        public static partial void MaintenanceScheduleUpdated(ILogger logger, int machines);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Machine {Machine} is DOWN for maintenance")]
        public static partial void MachineDown(ILogger logger, string machine);

        [LoggerMessage(Level = LogLevel.Information, Message = "Machine {Machine} is UP after maintenance")]
        public static partial void MachineUp(ILogger logger, string machine);

        [LoggerMessage(Level = LogLevel.Error, Message = "Maintenance state in the registry is unreadable, ignored: {Reason}")]
        public static partial void MaintenanceUnreadable(ILogger logger, string reason);
    }
}

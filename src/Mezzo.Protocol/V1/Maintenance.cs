namespace Mezzo.Protocol.V1;

/// <summary>mesos.proto <c>MachineID</c>: a machine by hostname and/or IP (hostnames compare case-insensitively).</summary>
public sealed class MachineID
{
    public string? Hostname { get; set; }

    public string? Ip { get; set; }
}

/// <summary>mesos.proto <c>Unavailability</c>: from <c>start</c> for <c>duration</c> (unset: forever).</summary>
public sealed class Unavailability
{
    public TimeInfo? Start { get; set; }

    public DurationInfo? Duration { get; set; }
}

/// <summary>maintenance.proto <c>Window</c>: machines that go down in the same interval.</summary>
public sealed class MaintenanceWindow
{
    public List<MachineID>? MachineIds { get; set; }

    public Unavailability? Unavailability { get; set; }
}

/// <summary>maintenance.proto <c>Schedule</c>.</summary>
public sealed class MaintenanceSchedule
{
    public List<MaintenanceWindow>? Windows { get; set; }
}

/// <summary>maintenance.proto <c>ClusterStatus.DrainingMachine</c> (inverse offer statuses are not produced).</summary>
public sealed class MaintenanceDrainingMachine
{
    public MachineID? Id { get; set; }
}

/// <summary>maintenance.proto <c>ClusterStatus</c>.</summary>
public sealed class MaintenanceClusterStatus
{
    public List<MaintenanceDrainingMachine>? DrainingMachines { get; set; }

    public List<MachineID>? DownMachines { get; set; }
}

public sealed class MasterCallUpdateMaintenanceSchedule
{
    public MaintenanceSchedule? Schedule { get; set; }
}

/// <summary>master.proto <c>Call.StartMaintenance</c> and <c>Call.StopMaintenance</c>.</summary>
public sealed class MasterCallMachines
{
    public List<MachineID>? Machines { get; set; }
}

public sealed class MasterResponseGetMaintenanceStatus
{
    public MaintenanceClusterStatus? Status { get; set; }
}

public sealed class MasterResponseGetMaintenanceSchedule
{
    public MaintenanceSchedule? Schedule { get; set; }
}

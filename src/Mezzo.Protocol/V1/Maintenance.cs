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

/// <summary>allocator.proto <c>InverseOfferStatus.Status</c>.</summary>
public enum InverseOfferStatusType
{
    UNKNOWN = 1,
    ACCEPT = 2,
    DECLINE = 3,
}

/// <summary>allocator.proto <c>InverseOfferStatus</c>: a framework's latest answer to an inverse offer for a machine.</summary>
public sealed class InverseOfferStatus
{
    public InverseOfferStatusType? Status { get; set; }

    public FrameworkID? FrameworkId { get; set; }

    public TimeInfo? Timestamp { get; set; }
}

/// <summary>maintenance.proto <c>ClusterStatus.DrainingMachine</c>.</summary>
public sealed class MaintenanceDrainingMachine
{
    public MachineID? Id { get; set; }

    /// <summary>The latest ACCEPT/DECLINE of each framework that answered an inverse offer for the machine's agents.</summary>
    public List<InverseOfferStatus>? Statuses { get; set; }
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

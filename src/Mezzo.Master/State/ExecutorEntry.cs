using Mezzo.Core.Resources;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.State;

/// <summary>An executor the master knows to run on an agent: its resources are held from its first launch to its exit.</summary>
public sealed class ExecutorEntry
{
    public required string AgentId { get; init; }

    public required string FrameworkId { get; init; }

    public required ExecutorInfo Info { get; init; }

    /// <summary>Allocated form, as framework.Used.</summary>
    public required Resources Resources { get; init; }

    public string ExecutorId => Info.ExecutorId!.Value!;
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// What a (re)started master owes the agents and frameworks of an earlier run that the registry remembers. Agents get
/// <c>--agent-reregister-timeout</c> from the recovery to re-register, else they are marked unreachable (within the
/// removal limit); frameworks get their own <c>failover_timeout</c> from the recovery to re-subscribe, else they are
/// removed and their tasks killed, just as if they had disconnected from a live master at that moment.
/// </summary>
public sealed partial class MasterActor
{
    private void RecoverFramework(FrameworkRecord record, DateTimeOffset now)
    {
        FrameworkInfo? info;
        try
        {
            info = MesosJson.Deserialize<FrameworkInfo>(record.InfoJson);
        }
        catch (JsonException ex)
        {
            Log.UnreadableFrameworkRecord(_log, record.FrameworkId, ex);
            return;
        }

        if (info is null)
        {
            Log.UnreadableFrameworkRecord(_log, record.FrameworkId, null);
            return;
        }

        info.Id = new FrameworkID { Value = record.FrameworkId };
        var timeout = info.FailoverTimeout ?? 0;
        _frameworks[record.FrameworkId] = new FrameworkEntry
        {
            FrameworkId = record.FrameworkId,
            Info = info,
            RegisteredAt = record.ChangedAt,
            UnregisteredAt = now,
            FailoverDeadline = now + TimeSpan.FromSeconds(timeout),
            Recovered = true,
        };
    }

    /// <summary>
    /// Whether a connected or disconnected agent has been silent too long: a recovered agent is given the re-register
    /// timeout from the recovery, any other the ping window from its last message.
    /// </summary>
    private bool IsOverdue(AgentEntry agent, DateTimeOffset now) => agent.Recovered
        ? now - StartTime >= _options.AgentReregisterTimeout
        : now - agent.LastSeen > _options.AgentUnreachableAfter;

    /// <summary>
    /// A task an agent back from a partition reports that the master never knew (its agent was marked unreachable
    /// after a restart without re-registering): as for tasks set aside at the partition, frameworks that are not
    /// partition-aware (and may have relaunched it) get it killed, partition-aware ones learn it runs again.
    /// </summary>
    private void ReturnUnlearnedTask(AgentEntry agent, FrameworkEntry framework, TaskEntry task)
    {
        if (!framework.PartitionAware)
        {
            KillLostTask(agent, framework, task.TaskId);
            return;
        }

        var status = MasterStatus(task.TaskId, agent.AgentId, task.State, TaskStatusReason.REASON_AGENT_REREGISTERED, "Agent reregistered");
        status.ExecutorId = task.LatestStatus?.ExecutorId ?? task.Info.Executor?.ExecutorId;
        SendStatus(framework, status);
    }

    /// <summary>Mesos's <c>recovered_slaves</c>: agents the registry knows that have not re-registered yet.</summary>
    private JsonArray RecoveredAgentsJson() => new([.. _agents.Values.Where(a => a.Recovered).Select(a => new JsonObject
    {
        ["id"] = a.AgentId,
        ["hostname"] = a.Hostname,
        ["port"] = a.Port,
        ["attributes"] = AttributesJson(a.Attributes),
    })]);

    /// <summary>The attributes the agent registered with, as the registry kept them; none if that record is unreadable.</summary>
    private IReadOnlyList<AgentAttribute> RecoveredAttributes(AgentRecord record)
    {
        try
        {
            var info = MesosJson.Deserialize<Protocol.Agents.AgentSubscribe>(record.InfoJson);
            return ResourceConversion.ToCore(info?.Attributes ?? []);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            Log.UnreadableAgentRecord(_log, record.AgentId, ex);
            return [];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Registry record of agent {AgentId} cannot be read; its attributes are unknown until it re-registers")]
        public static partial void UnreadableAgentRecord(ILogger logger, string agentId, Exception exception);

        [LoggerMessage(Level = LogLevel.Error, Message = "Registry record of framework {FrameworkId} cannot be read; it is recovered only if its agents or its scheduler bring it back")]
        public static partial void UnreadableFrameworkRecord(ILogger logger, string frameworkId, Exception? exception);
    }
}

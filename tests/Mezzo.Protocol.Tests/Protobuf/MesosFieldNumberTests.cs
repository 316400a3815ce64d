using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;
using AgentProto = Mesos.V1.Agent;

namespace Mezzo.Protocol.Tests.Protobuf;

/// <summary>
/// Pins the field numbers, labels, types and enum numbers of the vendored .proto lines that were added by hand (the
/// 1.5-era base lacked them) and then checked against apache/mesos (see Proto/README.md). A wrong number still
/// round-trips through our own encoder and decoder, so only a pin against Mesos's values catches it.
/// </summary>
public sealed class MesosFieldNumberTests
{
    private static readonly Dictionary<string, MessageDescriptor> Messages = AllMessages();

    private static readonly Dictionary<string, EnumDescriptor> Enums = Messages.Values
        .SelectMany(m => m.EnumTypes)
        .Concat(Messages.Values.Select(m => m.File).Distinct().SelectMany(f => f.EnumTypes))
        .DistinctBy(e => e.FullName)
        .ToDictionary(e => e.FullName);

    // (message, field, number, label, type): type is the scalar name, the message/enum full name, or "map".
    public static TheoryData<string, string, int, string, string> Fields => new()
    {
        { "mesos.v1.FrameworkInfo", "offer_filters", 13, "repeated", "map" },
        { "mesos.v1.OfferFilters", "min_allocatable_resources", 1, "optional", "mesos.v1.OfferFilters.MinAllocatableResources" },
        { "mesos.v1.OfferFilters.MinAllocatableResources", "quantities", 1, "repeated", "mesos.v1.OfferFilters.ResourceQuantities" },
        { "mesos.v1.OfferFilters.ResourceQuantities", "quantities", 1, "repeated", "map" },
        { "mesos.v1.Volume.Source", "host_path", 5, "optional", "mesos.v1.Volume.Source.HostPath" },
        { "mesos.v1.Volume.Source.HostPath", "path", 1, "required", "string" },
        { "mesos.v1.Volume.Source.HostPath", "mount_propagation", 2, "optional", "mesos.v1.MountPropagation" },
        { "mesos.v1.MountPropagation", "mode", 1, "optional", "mesos.v1.MountPropagation.Mode" },
        { "mesos.v1.DrainConfig", "max_grace_period", 1, "optional", "mesos.v1.DurationInfo" },
        { "mesos.v1.DrainConfig", "mark_gone", 2, "optional", "bool" },
        { "mesos.v1.DrainInfo", "state", 1, "required", "mesos.v1.DrainState" },
        { "mesos.v1.DrainInfo", "config", 2, "required", "mesos.v1.DrainConfig" },
        { "mesos.v1.TaskInfo", "max_completion_time", 14, "optional", "mesos.v1.DurationInfo" },
        { "mesos.v1.TaskInfo", "limits", 15, "repeated", "map" },
        { "mesos.v1.Task", "health_check", 15, "optional", "mesos.v1.HealthCheck" },
        { "mesos.v1.Task", "kill_policy", 16, "optional", "mesos.v1.KillPolicy" },
        { "mesos.v1.Task", "limits", 17, "repeated", "map" },
        { "mesos.v1.TaskStatus", "limitation", 16, "optional", "mesos.v1.TaskResourceLimitation" },
        { "mesos.v1.HealthCheck.HTTPCheckInfo", "protocol", 5, "optional", "mesos.v1.NetworkInfo.Protocol" },
        { "mesos.v1.HealthCheck.TCPCheckInfo", "protocol", 2, "optional", "mesos.v1.NetworkInfo.Protocol" },
        { "mesos.v1.Offer.Operation", "id", 12, "optional", "mesos.v1.OperationID" },
        { "mesos.v1.Offer.Operation", "grow_volume", 13, "optional", "mesos.v1.Offer.Operation.GrowVolume" },
        { "mesos.v1.Offer.Operation", "shrink_volume", 14, "optional", "mesos.v1.Offer.Operation.ShrinkVolume" },
        { "mesos.v1.Offer.Operation", "create_disk", 15, "optional", "mesos.v1.Offer.Operation.CreateDisk" },
        { "mesos.v1.Offer.Operation", "destroy_disk", 16, "optional", "mesos.v1.Offer.Operation.DestroyDisk" },
        { "mesos.v1.Offer.Operation.CreateDisk", "target_profile", 3, "optional", "string" },
        { "mesos.v1.OperationStatus", "uuid", 5, "optional", "mesos.v1.UUID" },
        { "mesos.v1.OperationStatus", "resource_provider_id", 7, "optional", "mesos.v1.ResourceProviderID" },
        { "mesos.v1.Operation", "uuid", 6, "required", "mesos.v1.UUID" },
        { "mesos.v1.agent.Call", "get_containers", 20, "optional", "mesos.v1.agent.Call.GetContainers" },
        { "mesos.v1.agent.Call.GetContainers", "show_nested", 1, "optional", "bool" },
        { "mesos.v1.agent.Call.GetContainers", "show_standalone", 2, "optional", "bool" },
        { "mesos.v1.agent.Response", "get_containers", 10, "optional", "mesos.v1.agent.Response.GetContainers" },
        { "mesos.v1.agent.Response", "get_agent", 15, "optional", "mesos.v1.agent.Response.GetAgent" },
        { "mesos.v1.agent.Response.GetAgent", "drain_config", 2, "optional", "mesos.v1.DrainConfig" },
        { "mesos.v1.agent.Response.GetAgent", "estimated_drain_start_time", 3, "optional", "mesos.v1.TimeInfo" },
        { "mesos.v1.agent.Response.GetContainers.Container", "framework_id", 1, "optional", "mesos.v1.FrameworkID" },
        { "mesos.v1.agent.Response.GetContainers.Container", "executor_id", 2, "optional", "mesos.v1.ExecutorID" },
        { "mesos.v1.agent.Response.GetContainers.Container", "executor_name", 3, "optional", "string" },
        { "mesos.v1.agent.Response.GetContainers.Container", "container_id", 4, "required", "mesos.v1.ContainerID" },
        { "mesos.v1.master.Call", "update_quota", 20, "optional", "mesos.v1.master.Call.UpdateQuota" },
        { "mesos.v1.master.Call", "drain_agent", 21, "optional", "mesos.v1.master.Call.DrainAgent" },
        { "mesos.v1.master.Call", "deactivate_agent", 22, "optional", "mesos.v1.master.Call.DeactivateAgent" },
        { "mesos.v1.master.Call", "reactivate_agent", 23, "optional", "mesos.v1.master.Call.ReactivateAgent" },
        { "mesos.v1.master.Call", "teardown", 16, "optional", "mesos.v1.master.Call.Teardown" },
        { "mesos.v1.master.Call", "mark_agent_gone", 17, "optional", "mesos.v1.master.Call.MarkAgentGone" },
        { "mesos.v1.master.Call.DrainAgent", "max_grace_period", 2, "optional", "google.protobuf.Duration" },
        { "mesos.v1.master.Call.DrainAgent", "mark_gone", 3, "optional", "bool" },
        { "mesos.v1.master.Call.UpdateQuota", "force", 1, "optional", "bool" },
        { "mesos.v1.master.Call.UpdateQuota", "quota_configs", 2, "repeated", "mesos.v1.quota.QuotaConfig" },
        { "mesos.v1.master.Call.ReserveResources", "source", 3, "repeated", "mesos.v1.Resource" },
        { "mesos.v1.master.Response", "get_operations", 20, "optional", "mesos.v1.master.Response.GetOperations" },
        { "mesos.v1.master.Response.GetAgents.Agent", "deactivated", 12, "optional", "bool" },
        { "mesos.v1.master.Response.GetAgents.Agent", "drain_info", 13, "optional", "mesos.v1.DrainInfo" },
        { "mesos.v1.master.Response.GetAgents.Agent", "estimated_drain_start_time", 14, "optional", "mesos.v1.TimeInfo" },
        { "mesos.v1.master.Response.GetFrameworks.Framework", "offer_constraints", 12, "optional", "mesos.v1.scheduler.OfferConstraints" },
        { "mesos.v1.master.Response.GetMaster", "start_time", 2, "optional", "double" },
        { "mesos.v1.master.Response.GetMaster", "elected_time", 3, "optional", "double" },
        { "mesos.v1.master.Event.Subscribed", "heartbeat_interval_seconds", 2, "optional", "double" },
        { "mesos.v1.quota.QuotaStatus", "configs", 2, "repeated", "mesos.v1.quota.QuotaConfig" },
        { "mesos.v1.quota.QuotaConfig", "role", 1, "required", "string" },
        { "mesos.v1.quota.QuotaConfig", "guarantees", 2, "repeated", "map" },
        { "mesos.v1.quota.QuotaConfig", "limits", 3, "repeated", "map" },
        { "mesos.v1.scheduler.Call", "acknowledge_operation_status", 17, "optional", "mesos.v1.scheduler.Call.AcknowledgeOperationStatus" },
        { "mesos.v1.scheduler.Call", "reconcile_operations", 18, "optional", "mesos.v1.scheduler.Call.ReconcileOperations" },
        { "mesos.v1.scheduler.Call", "update_framework", 19, "optional", "mesos.v1.scheduler.Call.UpdateFramework" },
        { "mesos.v1.scheduler.Call.Subscribe", "offer_constraints", 3, "optional", "mesos.v1.scheduler.OfferConstraints" },
        { "mesos.v1.scheduler.Call.UpdateFramework", "offer_constraints", 3, "optional", "mesos.v1.scheduler.OfferConstraints" },
        { "mesos.v1.scheduler.Call.AcknowledgeOperationStatus", "uuid", 3, "required", "bytes" },
        { "mesos.v1.scheduler.Call.AcknowledgeOperationStatus", "operation_id", 4, "required", "mesos.v1.OperationID" },
        { "mesos.v1.scheduler.Event", "update_operation_status", 11, "optional", "mesos.v1.scheduler.Event.UpdateOperationStatus" },
        { "mesos.v1.scheduler.AttributeConstraint.Selector", "pseudoattribute_type", 1, "optional", "mesos.v1.scheduler.AttributeConstraint.Selector.PseudoattributeType" },
        { "mesos.v1.scheduler.AttributeConstraint.Selector", "attribute_name", 2, "optional", "string" },
        { "mesos.v1.scheduler.AttributeConstraint.Predicate", "text_not_matches", 6, "optional", "mesos.v1.scheduler.AttributeConstraint.Predicate.TextNotMatches" },
        { "mesos.v1.scheduler.OfferConstraints", "role_constraints", 1, "repeated", "map" },
    };

    public static TheoryData<string, string, int> EnumValues => new()
    {
        { "mesos.v1.Volume.Source.Type", "HOST_PATH", 4 },
        { "mesos.v1.Volume.Source.Type", "CSI_VOLUME", 5 },
        { "mesos.v1.MountPropagation.Mode", "HOST_TO_CONTAINER", 1 },
        { "mesos.v1.MountPropagation.Mode", "BIDIRECTIONAL", 2 },
        { "mesos.v1.DrainState", "DRAINING", 1 },
        { "mesos.v1.DrainState", "DRAINED", 2 },
        { "mesos.v1.TaskStatus.Reason", "REASON_AGENT_REMOVED_BY_OPERATOR", 31 },
        { "mesos.v1.TaskStatus.Reason", "REASON_AGENT_REREGISTERED", 32 },
        { "mesos.v1.TaskStatus.Reason", "REASON_MAX_COMPLETION_TIME_REACHED", 33 },
        { "mesos.v1.TaskStatus.Reason", "REASON_AGENT_DRAINING", 34 },
        { "mesos.v1.AgentInfo.Capability.Type", "AGENT_DRAINING", 7 },
        { "mesos.v1.AgentInfo.Capability.Type", "TASK_RESOURCE_LIMITS", 8 },
        { "mesos.v1.Resource.DiskInfo.Source.Type", "BLOCK", 3 },
        { "mesos.v1.Resource.DiskInfo.Source.Type", "RAW", 4 },
        { "mesos.v1.OperationState", "OPERATION_RECOVERING", 8 },
        { "mesos.v1.OperationState", "OPERATION_UNKNOWN", 9 },
        { "mesos.v1.Offer.Operation.Type", "GROW_VOLUME", 11 },
        { "mesos.v1.Offer.Operation.Type", "DESTROY_DISK", 14 },
        { "mesos.v1.agent.Call.Type", "GET_CONTAINERS", 10 },
        { "mesos.v1.agent.Call.Type", "GET_AGENT", 20 },
        { "mesos.v1.agent.Call.Type", "GET_OPERATIONS", 31 },
        { "mesos.v1.agent.Response.Type", "GET_CONTAINERS", 9 },
        { "mesos.v1.agent.Response.Type", "GET_AGENT", 14 },
        { "mesos.v1.master.Call.Type", "TEARDOWN", 31 },
        { "mesos.v1.master.Call.Type", "MARK_AGENT_GONE", 32 },
        { "mesos.v1.master.Call.Type", "GET_OPERATIONS", 33 },
        { "mesos.v1.master.Call.Type", "UPDATE_QUOTA", 36 },
        { "mesos.v1.master.Call.Type", "DRAIN_AGENT", 37 },
        { "mesos.v1.master.Call.Type", "DEACTIVATE_AGENT", 38 },
        { "mesos.v1.master.Call.Type", "REACTIVATE_AGENT", 39 },
        { "mesos.v1.master.Response.Type", "GET_OPERATIONS", 19 },
        { "mesos.v1.master.Event.Type", "HEARTBEAT", 9 },
        { "mesos.v1.scheduler.Call.Type", "ACKNOWLEDGE_OPERATION_STATUS", 15 },
        { "mesos.v1.scheduler.Call.Type", "RECONCILE_OPERATIONS", 16 },
        { "mesos.v1.scheduler.Call.Type", "UPDATE_FRAMEWORK", 17 },
        { "mesos.v1.scheduler.Event.Type", "UPDATE_OPERATION_STATUS", 11 },
        { "mesos.v1.scheduler.AttributeConstraint.Selector.PseudoattributeType", "ZONE", 3 },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void A_vendored_field_has_Mesoss_number_label_and_type(string message, string field, int number, string label, string type)
    {
        Messages.Should().ContainKey(message);
        var descriptor = Messages[message].FindFieldByName(field);
        descriptor.Should().NotBeNull($"{message} should have a field {field}");

        descriptor!.FieldNumber.Should().Be(number, $"{message}.{field}");
        Label(descriptor).Should().Be(label, $"{message}.{field}");
        KindOf(descriptor).Should().Be(type, $"{message}.{field}");
    }

    [Theory]
    [MemberData(nameof(EnumValues))]
    public void A_vendored_enum_value_has_Mesoss_number(string enumName, string value, int number)
    {
        Enums.Should().ContainKey(enumName);
        var descriptor = Enums[enumName].FindValueByName(value);
        descriptor.Should().NotBeNull($"{enumName} should have {value}");
        descriptor!.Number.Should().Be(number, $"{enumName}.{value}");
    }

    [Fact]
    public void A_standalone_container_without_framework_or_executor_encodes_with_Mesoss_tags_and_parses()
    {
        // A standalone container (LAUNCH_CONTAINER) has no framework or executor, which is why Mesos declares those
        // fields optional (the vendored copy had them required; the label is pinned in the theory above).
        var response = new AgentOperatorResponse
        {
            Type = AgentOperatorResponseType.GET_CONTAINERS,
            GetContainers = new AgentOperatorResponseGetContainers
            {
                Containers = [new AgentOperatorResponseGetContainersContainer { ContainerId = new ContainerID { Value = "c" } }],
            },
        };

        var bytes = MesosProtobuf.Serialize(response);

        // type = 9 (field 1 varint), get_containers (field 10, LEN 7) { containers (field 1, LEN 5) { container_id (field 4, LEN 3) { value "c" } } }
        bytes.Should().Equal(0x08, 0x09, 0x52, 0x07, 0x0A, 0x05, 0x22, 0x03, 0x0A, 0x01, (byte)'c');
        var parsed = AgentProto.Response.Parser.ParseFrom(bytes);
        parsed.GetContainers.Containers.Should().ContainSingle().Which.ContainerId.Value.Should().Be("c");
        parsed.GetContainers.Containers[0].HasExecutorName.Should().BeFalse();
    }

    [Fact]
    public void Offer_filters_and_host_path_volumes_travel_under_Mesoss_tags()
    {
        var framework = new Mesos.V1.FrameworkInfo { User = "u", Name = "n" };
        framework.OfferFilters.Add("r", new Mesos.V1.OfferFilters());
        // field 1 "u", field 2 "n", then offer_filters (field 13, LEN) as a map entry { key (1) "r", value (2) {} }
        framework.ToByteArray().Should().Equal(0x0A, 0x01, (byte)'u', 0x12, 0x01, (byte)'n', 0x6A, 0x05, 0x0A, 0x01, (byte)'r', 0x12, 0x00);

        var source = new Mesos.V1.Volume.Types.Source
        {
            Type = Mesos.V1.Volume.Types.Source.Types.Type.HostPath,
            HostPath = new Mesos.V1.Volume.Types.Source.Types.HostPath
            {
                Path = "/p",
                MountPropagation = new Mesos.V1.MountPropagation { Mode = Mesos.V1.MountPropagation.Types.Mode.Bidirectional },
            },
        };
        // type = 4 (field 1), host_path (field 5, LEN 8) { path (1) "/p", mount_propagation (2, LEN 2) { mode (1) = 2 } }
        source.ToByteArray().Should().Equal(0x08, 0x04, 0x2A, 0x08, 0x0A, 0x02, (byte)'/', (byte)'p', 0x12, 0x02, 0x08, 0x02);
    }

    [Fact]
    public void GET_AGENT_carries_the_drain_config_under_Mesoss_tags()
    {
        var response = new AgentProto.Response
        {
            Type = AgentProto.Response.Types.Type.GetAgent,
            GetAgent = new AgentProto.Response.Types.GetAgent
            {
                DrainConfig = new Mesos.V1.DrainConfig { MarkGone = true },
                EstimatedDrainStartTime = new Mesos.V1.TimeInfo { Nanoseconds = 1 },
            },
        };

        // type = 14, get_agent (field 15, LEN 8) { drain_config (2, LEN 2) { mark_gone (2) = 1 }, estimated_drain_start_time (3, LEN 2) { nanoseconds (1) = 1 } }
        response.ToByteArray().Should().Equal(0x08, 0x0E, 0x7A, 0x08, 0x12, 0x02, 0x10, 0x01, 0x1A, 0x02, 0x08, 0x01);
    }

    private static string Label(FieldDescriptor field) =>
        field.IsRepeated ? "repeated" : field.IsRequired ? "required" : "optional";

    private static string KindOf(FieldDescriptor field) => field switch
    {
        { IsMap: true } => "map",
        { FieldType: FieldType.Message or FieldType.Group } => field.MessageType.FullName,
        { FieldType: FieldType.Enum } => field.EnumType.FullName,
        _ => field.FieldType.ToString().ToLowerInvariant(),
    };

    private static Dictionary<string, MessageDescriptor> AllMessages()
    {
        var files = new HashSet<FileDescriptor>();
        var pending = new Stack<FileDescriptor>(
        [
            Mesos.V1.Scheduler.Call.Descriptor.File,
            Mesos.V1.Executor.Call.Descriptor.File,
            Mesos.V1.Master.Call.Descriptor.File,
            AgentProto.Call.Descriptor.File,
        ]);
        while (pending.TryPop(out var file))
        {
            if (files.Add(file))
            {
                foreach (var dependency in file.Dependencies)
                {
                    pending.Push(dependency);
                }
            }
        }

        var messages = new Dictionary<string, MessageDescriptor>();
        var queue = new Queue<MessageDescriptor>(files.SelectMany(f => f.MessageTypes));
        while (queue.TryDequeue(out var message))
        {
            messages[message.FullName] = message;
            foreach (var nested in message.NestedTypes)
            {
                queue.Enqueue(nested);
            }
        }

        return messages;
    }
}

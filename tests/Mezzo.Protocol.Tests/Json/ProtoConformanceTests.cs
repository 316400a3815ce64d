using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;
using ValueType = Mezzo.Protocol.V1.ValueType;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>
/// Every JSON field name and enum member of the wire types, checked against include/mesos/v1/mesos.proto,
/// include/mesos/v1/scheduler/scheduler.proto and, for the operator API, master/master.proto and quota/quota.proto.
/// The tables below are transcribed from the protos (field names only; a Mezzo type may leave fields out but must not
/// invent or misspell one). A new wire type must be added here.
/// </summary>
public sealed class ProtoConformanceTests
{
    private static readonly Dictionary<Type, string[]> ProtoFields = new()
    {
        [typeof(FrameworkID)] = ["value"],
        [typeof(OfferID)] = ["value"],
        [typeof(AgentID)] = ["value"],
        [typeof(TaskID)] = ["value"],
        [typeof(ExecutorID)] = ["value"],
        [typeof(ContainerID)] = ["value", "parent"],
        [typeof(DurationInfo)] = ["nanoseconds"],
        [typeof(TimeInfo)] = ["nanoseconds"],
        [typeof(Label)] = ["key", "value"],
        [typeof(Labels)] = ["labels"],
        [typeof(Address)] = ["hostname", "ip", "port"],
        [typeof(URL)] = ["scheme", "address", "path", "query", "fragment"],
        [typeof(Parameter)] = ["key", "value"],
        [typeof(Filters)] = ["refuse_seconds"],
        [typeof(MasterInfo)] = ["id", "ip", "port", "pid", "hostname", "version", "address", "domain", "capabilities"],
        [typeof(FrameworkInfo)] =
        [
            "user", "name", "id", "failover_timeout", "checkpoint", "role", "roles", "hostname", "principal", "webui_url",
            "capabilities", "labels", "offer_filters",
        ],
        [typeof(FrameworkInfoCapability)] = ["type"],

        // Value.*, Attribute, Resource and its nested messages.
        [typeof(ValueScalar)] = ["value"],
        [typeof(ValueRange)] = ["begin", "end"],
        [typeof(ValueRanges)] = ["range"],
        [typeof(ValueSet)] = ["item"],
        [typeof(ValueText)] = ["value"],
        [typeof(ResourceReservationInfo)] = ["type", "role", "principal", "labels"],
        [typeof(ResourceAllocationInfo)] = ["role"],
        [typeof(Resource)] =
        [
            "provider_id", "name", "type", "scalar", "ranges", "set", "role", "allocation_info", "reservation",
            "reservations", "disk", "revocable", "shared",
        ],
        [typeof(V1.Attribute)] = ["name", "type", "scalar", "ranges", "set", "text"],

        // Offer and Offer.Operation.*.
        [typeof(Offer)] =
        [
            "id", "framework_id", "agent_id", "hostname", "url", "domain", "resources", "attributes", "executor_ids",
            "unavailability", "allocation_info",
        ],
        [typeof(InverseOffer)] = ["id", "url", "framework_id", "agent_id", "unavailability", "resources"],
        [typeof(OfferOperation)] =
        [
            "type", "id", "launch", "launch_group", "reserve", "unreserve", "create", "destroy", "grow_volume",
            "shrink_volume", "create_disk", "destroy_disk",
        ],
        [typeof(OfferOperationLaunch)] = ["task_infos"],
        [typeof(OfferOperationLaunchGroup)] = ["executor", "task_group"],
        [typeof(OfferOperationResources)] = ["resources"],

        // Tasks.
        [typeof(EnvironmentVariable)] = ["name", "type", "value", "secret"],
        [typeof(EnvironmentInfo)] = ["variables"],
        [typeof(Secret)] = ["type", "reference", "value"],
        [typeof(SecretReference)] = ["name", "key"],
        [typeof(SecretValue)] = ["data"],
        [typeof(CommandInfoURI)] = ["value", "executable", "extract", "cache", "output_file"],
        [typeof(CommandInfo)] = ["uris", "environment", "shell", "value", "arguments", "user"],
        [typeof(KillPolicy)] = ["grace_period"],
        // Not a proto message: the element of the agent's /monitor/statistics array (docs/endpoints/slave/monitor/statistics.md).
        [typeof(MonitorStatisticsEntry)] = ["executor_id", "executor_name", "framework_id", "source", "statistics"],
        [typeof(ResourceStatistics)] =
        [
            "timestamp", "processes", "threads", "cpus_user_time_secs", "cpus_system_time_secs", "cpus_limit",
            "cpus_nr_periods", "cpus_nr_throttled", "cpus_throttled_time_secs", "mem_total_bytes", "mem_total_memsw_bytes",
            "mem_limit_bytes", "mem_soft_limit_bytes", "mem_file_bytes", "mem_anon_bytes", "mem_cache_bytes", "mem_rss_bytes",
            "mem_mapped_file_bytes", "mem_swap_bytes", "mem_unevictable_bytes", "mem_low_pressure_counter",
            "mem_medium_pressure_counter", "mem_critical_pressure_counter", "disk_limit_bytes", "disk_used_bytes",
            "disk_statistics", "blkio_statistics", "perf", "net_rx_packets", "net_rx_bytes", "net_rx_errors", "net_rx_dropped",
            "net_tx_packets", "net_tx_bytes", "net_tx_errors", "net_tx_dropped", "net_tcp_rtt_microsecs_p50",
            "net_tcp_rtt_microsecs_p90", "net_tcp_rtt_microsecs_p95", "net_tcp_rtt_microsecs_p99",
            "net_tcp_active_connections", "net_tcp_time_wait_connections", "net_traffic_control_statistics",
            "net_snmp_statistics",
        ],
        [typeof(ExecutorInfo)] =
        [
            "type", "executor_id", "framework_id", "command", "container", "resources", "name", "source", "data",
            "discovery", "shutdown_grace_period", "labels",
        ],
        [typeof(TaskInfo)] =
        [
            "name", "task_id", "agent_id", "resources", "executor", "command", "container", "health_check", "check",
            "kill_policy", "data", "labels", "discovery", "max_completion_time",
        ],
        [typeof(TaskGroupInfo)] = ["tasks"],
        [typeof(TaskResourceLimitation)] = ["resources"],

        // Containers, images, volumes, networks.
        [typeof(ContainerInfo)] =
        [
            "type", "volumes", "hostname", "docker", "mesos", "network_infos", "linux_info", "rlimit_info", "tty_info",
        ],
        [typeof(ContainerInfoDockerInfo)] =
        [
            "image", "network", "port_mappings", "privileged", "parameters", "force_pull_image", "volume_driver",
        ],
        [typeof(ContainerInfoDockerInfoPortMapping)] = ["host_port", "container_port", "protocol"],
        [typeof(ContainerInfoMesosInfo)] = ["image"],
        [typeof(Image)] = ["type", "appc", "docker", "cached"],
        [typeof(ImageDocker)] = ["name", "credential", "config"],
        [typeof(MountPropagation)] = ["mode"],
        [typeof(Volume)] = ["mode", "container_path", "host_path", "image", "source"],
        [typeof(VolumeSource)] = ["type", "docker_volume", "host_path", "sandbox_path", "secret"],
        [typeof(VolumeSourceHostPath)] = ["path", "mount_propagation"],
        [typeof(VolumeSourceSandboxPath)] = ["type", "path"],
        [typeof(NetworkInfo)] = ["ip_addresses", "name", "groups", "labels", "port_mappings"],
        [typeof(NetworkInfoIPAddress)] = ["protocol", "ip_address"],
        [typeof(NetworkInfoPortMapping)] = ["host_port", "container_port", "protocol"],

        // Health checks and checks.
        [typeof(HealthCheck)] =
        [
            "delay_seconds", "interval_seconds", "timeout_seconds", "consecutive_failures", "grace_period_seconds",
            "type", "command", "http", "tcp",
        ],
        [typeof(HealthCheckHTTPCheckInfo)] = ["protocol", "scheme", "port", "path", "statuses"],
        [typeof(HealthCheckTCPCheckInfo)] = ["protocol", "port"],
        [typeof(CheckInfo)] = ["type", "command", "http", "tcp", "delay_seconds", "interval_seconds", "timeout_seconds"],
        [typeof(CheckInfoCommand)] = ["command"],
        [typeof(CheckInfoHttp)] = ["port", "path"],
        [typeof(CheckInfoTcp)] = ["port"],
        [typeof(CheckStatusInfo)] = ["type", "command", "http", "tcp"],
        [typeof(CheckStatusInfoCommand)] = ["exit_code"],
        [typeof(CheckStatusInfoHttp)] = ["status_code"],
        [typeof(CheckStatusInfoTcp)] = ["succeeded"],
        [typeof(ContainerStatus)] = ["container_id", "network_infos", "cgroup_info", "executor_pid"],
        [typeof(TaskStatus)] =
        [
            "task_id", "state", "message", "source", "reason", "data", "agent_id", "executor_id", "timestamp", "uuid",
            "healthy", "check_status", "labels", "container_status", "unreachable_time", "limitation",
        ],

        // executor/executor.proto (Mesos 1.11: LAUNCH_GROUP, HEARTBEAT and Subscribed.container_id included).
        [typeof(AgentInfo)] = ["hostname", "port", "resources", "attributes", "id", "domain", "capabilities", "resource_providers"],
        [typeof(ExecutorCall)] = ["executor_id", "framework_id", "type", "subscribe", "update", "message"],
        [typeof(ExecutorCallSubscribe)] = ["unacknowledged_tasks", "unacknowledged_updates"],
        [typeof(ExecutorCallUpdate)] = ["status"],
        [typeof(ExecutorCallMessage)] = ["data"],
        [typeof(ExecutorEvent)] = ["type", "subscribed", "acknowledged", "launch", "launch_group", "kill", "message", "error"],
        [typeof(ExecutorEventSubscribed)] = ["executor_info", "framework_info", "agent_info", "container_id"],
        [typeof(ExecutorEventLaunch)] = ["task"],
        [typeof(ExecutorEventLaunchGroup)] = ["task_group"],
        [typeof(ExecutorEventKill)] = ["task_id", "kill_policy"],
        [typeof(ExecutorEventAcknowledged)] = ["task_id", "uuid"],
        [typeof(ExecutorEventMessage)] = ["data"],
        [typeof(ExecutorEventError)] = ["message"],

        // scheduler.proto: Call and its messages. update_framework (19) and Call.UpdateFramework are Mesos 1.9+.
        [typeof(Call)] =
        [
            "framework_id", "type", "subscribe", "accept", "decline", "accept_inverse_offers", "decline_inverse_offers",
            "revive", "kill", "shutdown", "acknowledge", "acknowledge_operation_status", "reconcile",
            "reconcile_operations", "message", "request", "suppress", "update_framework",
        ],
        [typeof(CallSubscribe)] = ["framework_info", "suppressed_roles", "offer_constraints"],
        [typeof(CallAccept)] = ["offer_ids", "operations", "filters"],
        [typeof(CallDecline)] = ["offer_ids", "filters"],
        [typeof(CallInverseOffers)] = ["inverse_offer_ids", "filters"],
        [typeof(CallRevive)] = ["roles"],
        [typeof(CallSuppress)] = ["roles"],
        [typeof(CallKill)] = ["task_id", "agent_id", "kill_policy"],
        [typeof(CallShutdown)] = ["executor_id", "agent_id"],
        [typeof(CallAcknowledge)] = ["agent_id", "task_id", "uuid"],
        [typeof(CallReconcileTask)] = ["task_id", "agent_id"],
        [typeof(CallReconcile)] = ["tasks"],
        [typeof(CallMessage)] = ["agent_id", "executor_id", "data"],
        [typeof(CallUpdateFramework)] = ["framework_info", "suppressed_roles", "offer_constraints"],
        [typeof(OfferConstraints)] = ["role_constraints"],
        [typeof(OfferConstraintsRoleConstraints)] = ["groups"],
        [typeof(OfferConstraintsGroup)] = ["attribute_constraints"],
        [typeof(AttributeConstraint)] = ["selector", "predicate"],
        [typeof(AttributeConstraintSelector)] = ["pseudoattribute_type", "attribute_name"],
        [typeof(AttributeConstraintPredicate)] = ["exists", "not_exists", "text_equals", "text_not_equals", "text_matches", "text_not_matches"],
        [typeof(EmptyMessage)] = [],
        [typeof(TextPredicateValue)] = ["value"],
        [typeof(TextPredicateRegex)] = ["regex"],
        [typeof(OfferFilters)] = ["min_allocatable_resources"],
        [typeof(OfferFiltersMinAllocatableResources)] = ["quantities"],
        [typeof(OfferFiltersResourceQuantities)] = ["quantities"],
        [typeof(OperationID)] = ["value"],
        [typeof(OperationStatus)] = ["operation_id", "state", "message", "converted_resources", "uuid", "agent_id", "resource_provider_id"],
        [typeof(EventUpdateOperationStatus)] = ["status"],

        // scheduler.proto: Event and its messages.
        [typeof(Event)] =
        [
            "type", "subscribed", "offers", "inverse_offers", "rescind", "rescind_inverse_offer", "update",
            "update_operation_status", "message", "failure", "error",
        ],
        [typeof(EventSubscribed)] = ["framework_id", "heartbeat_interval_seconds", "master_info"],
        [typeof(EventOffers)] = ["offers"],
        [typeof(EventRescind)] = ["offer_id"],
        [typeof(EventInverseOffers)] = ["inverse_offers"],
        [typeof(EventRescindInverseOffer)] = ["inverse_offer_id"],
        [typeof(EventUpdate)] = ["status"],
        [typeof(EventMessage)] = ["agent_id", "executor_id", "data"],
        [typeof(EventFailure)] = ["agent_id", "executor_id", "status"],
        [typeof(EventError)] = ["message"],

        // include/mesos/v1/master/master.proto (operator API, Mesos 1.11) and quota/quota.proto.
        [typeof(MasterCall)] =
        [
            "type", "get_metrics", "set_logging_level", "list_files", "read_file", "update_weights", "reserve_resources",
            "unreserve_resources", "create_volumes", "destroy_volumes", "grow_volume", "shrink_volume",
            "update_maintenance_schedule", "start_maintenance", "stop_maintenance", "drain_agent", "deactivate_agent",
            "reactivate_agent", "update_quota", "teardown", "mark_agent_gone", "set_quota", "remove_quota",
        ],
        [typeof(MasterCallUpdateWeights)] = ["weight_infos"],
        [typeof(MasterCallUpdateQuota)] = ["force", "quota_configs"],
        [typeof(MasterCallSetQuota)] = ["quota_request"],
        [typeof(MasterCallRemoveQuota)] = ["role"],
        [typeof(MasterCallReserveResources)] = ["agent_id", "source", "resources"],
        [typeof(MasterCallUnreserveResources)] = ["agent_id", "resources"],
        [typeof(MasterCallDrainAgent)] = ["agent_id", "max_grace_period", "mark_gone"],
        [typeof(MasterCallAgent)] = ["agent_id"],
        [typeof(MasterCallTeardown)] = ["framework_id"],
        [typeof(MasterCallUpdateMaintenanceSchedule)] = ["schedule"],
        [typeof(MasterCallMachines)] = ["machines"],
        [typeof(MasterResponseGetMaintenanceStatus)] = ["status"],
        [typeof(MasterResponseGetMaintenanceSchedule)] = ["schedule"],
        [typeof(MachineID)] = ["hostname", "ip"],
        [typeof(Unavailability)] = ["start", "duration"],
        [typeof(MaintenanceWindow)] = ["machine_ids", "unavailability"],
        [typeof(MaintenanceSchedule)] = ["windows"],
        [typeof(MaintenanceDrainingMachine)] = ["id", "statuses"],
        // allocator/allocator.proto.
        [typeof(InverseOfferStatus)] = ["status", "framework_id", "timestamp"],
        [typeof(MaintenanceClusterStatus)] = ["draining_machines", "down_machines"],
        [typeof(MasterResponse)] =
        [
            "type", "get_health", "get_flags", "get_version", "get_metrics", "get_logging_level", "list_files",
            "read_file", "get_state", "get_agents", "get_frameworks", "get_executors", "get_operations", "get_tasks",
            "get_roles", "get_weights", "get_master", "get_maintenance_status", "get_maintenance_schedule", "get_quota",
        ],
        [typeof(MasterResponseGetHealth)] = ["healthy"],
        [typeof(MasterResponseGetFlags)] = ["flags"],
        [typeof(MasterResponseGetVersion)] = ["version_info"],
        [typeof(MasterResponseGetRoles)] = ["roles"],
        [typeof(MasterResponseGetWeights)] = ["weight_infos"],
        [typeof(MasterResponseGetQuota)] = ["status"],
        [typeof(WeightInfo)] = ["weight", "role"],
        [typeof(VersionInfo)] = ["version", "build_date", "build_time", "build_user", "git_sha", "git_branch", "git_tag"],
        [typeof(Flag)] = ["name", "value"],
        [typeof(Role)] = ["name", "weight", "frameworks", "resources"],
        [typeof(QuotaInfo)] = ["role", "principal", "guarantee"],
        [typeof(QuotaRequest)] = ["force", "role", "guarantee"],
        [typeof(QuotaConfig)] = ["role", "guarantees", "limits"],
        [typeof(QuotaStatus)] = ["infos", "configs"],

        // master.proto read calls, their responses and the SUBSCRIBE event stream; mesos.proto Metric, FileInfo, Task,
        // UUID, Operation, DrainConfig and DrainInfo (Mesos 1.11).
        [typeof(MasterCallGetMetrics)] = ["timeout"],
        [typeof(MasterCallSetLoggingLevel)] = ["level", "duration"],
        [typeof(MasterCallListFiles)] = ["path"],
        [typeof(MasterCallReadFile)] = ["path", "offset", "length"],
        [typeof(Metric)] = ["name", "value"],
        [typeof(MesosFileInfo)] = ["path", "nlink", "size", "mtime", "mode", "uid", "gid"],
        [typeof(MesosTask)] =
        [
            "name", "task_id", "framework_id", "executor_id", "agent_id", "state", "resources", "statuses",
            "status_update_state", "status_update_uuid", "labels", "discovery", "container", "health_check", "user",
            "kill_policy", "limits",
        ],
        [typeof(MesosUUID)] = ["value"],
        [typeof(Operation)] = ["framework_id", "agent_id", "info", "latest_status", "statuses", "uuid"],
        [typeof(DrainConfig)] = ["max_grace_period", "mark_gone"],
        [typeof(DrainInfo)] = ["state", "config"],
        [typeof(MasterResponseGetMetrics)] = ["metrics"],
        [typeof(MasterResponseGetLoggingLevel)] = ["level"],
        [typeof(MasterResponseListFiles)] = ["file_infos"],
        [typeof(MasterResponseReadFile)] = ["size", "data"],
        [typeof(MasterResponseGetState)] = ["get_tasks", "get_executors", "get_frameworks", "get_agents"],
        [typeof(MasterResponseGetAgentsAgent)] =
        [
            "agent_info", "active", "deactivated", "version", "pid", "registered_time", "reregistered_time",
            "total_resources", "allocated_resources", "offered_resources", "capabilities", "resource_providers",
            "drain_info", "estimated_drain_start_time",
        ],
        [typeof(MasterResponseGetAgents)] = ["agents", "recovered_agents"],
        [typeof(MasterResponseGetFrameworksFramework)] =
        [
            "framework_info", "active", "connected", "recovered", "registered_time", "reregistered_time",
            "unregistered_time", "offers", "inverse_offers", "allocated_resources", "offered_resources", "offer_constraints",
        ],
        [typeof(MasterResponseGetFrameworks)] = ["frameworks", "completed_frameworks", "recovered_frameworks"],
        [typeof(MasterResponseGetExecutorsExecutor)] = ["executor_info", "agent_id"],
        [typeof(MasterResponseGetExecutors)] = ["executors", "orphan_executors"],
        [typeof(MasterResponseGetOperations)] = ["operations"],
        [typeof(MasterResponseGetTasks)] = ["pending_tasks", "tasks", "unreachable_tasks", "completed_tasks", "orphan_tasks"],
        [typeof(MasterResponseGetMaster)] = ["master_info", "start_time", "elected_time"],
        [typeof(MasterEvent)] =
        [
            "type", "subscribed", "task_added", "task_updated", "agent_added", "agent_removed", "framework_added",
            "framework_updated", "framework_removed",
        ],
        [typeof(MasterEventSubscribed)] = ["get_state", "heartbeat_interval_seconds"],
        [typeof(MasterEventTaskAdded)] = ["task"],
        [typeof(MasterEventTaskUpdated)] = ["framework_id", "status", "state"],
        [typeof(MasterEventAgentAdded)] = ["agent"],
        [typeof(MasterEventAgentRemoved)] = ["agent_id"],
        [typeof(MasterEventFramework)] = ["framework"],
        [typeof(MasterEventFrameworkRemoved)] = ["framework_info"],

        // include/mesos/v1/agent/agent.proto (Mesos 1.11).
        [typeof(AgentOperatorCall)] =
        [
            "type", "get_metrics", "set_logging_level", "list_files", "read_file", "get_containers",
            "launch_nested_container", "wait_nested_container", "kill_nested_container", "remove_nested_container",
            "launch_nested_container_session", "attach_container_input", "attach_container_output", "launch_container",
            "wait_container", "kill_container", "remove_container", "add_resource_provider_config",
            "update_resource_provider_config", "remove_resource_provider_config", "mark_resource_provider_gone",
            "prune_images",
        ],
        [typeof(AgentOperatorCallGetContainers)] = ["show_nested", "show_standalone"],
        [typeof(AgentOperatorResponse)] =
        [
            "type", "get_health", "get_flags", "get_version", "get_metrics", "get_logging_level", "list_files",
            "read_file", "get_state", "get_containers", "get_frameworks", "get_executors", "get_operations", "get_tasks",
            "get_agent", "get_resource_providers", "wait_nested_container", "wait_container",
        ],
        [typeof(AgentOperatorResponseGetState)] = ["get_tasks", "get_executors", "get_frameworks"],
        [typeof(AgentOperatorResponseGetContainersContainer)] =
        [
            "framework_id", "executor_id", "executor_name", "container_id", "container_status", "resource_statistics",
        ],
        [typeof(AgentOperatorResponseGetContainers)] = ["containers"],
        [typeof(AgentOperatorResponseGetFrameworksFramework)] = ["framework_info"],
        [typeof(AgentOperatorResponseGetFrameworks)] = ["frameworks", "completed_frameworks"],
        [typeof(AgentOperatorResponseGetExecutorsExecutor)] = ["executor_info"],
        [typeof(AgentOperatorResponseGetExecutors)] = ["executors", "completed_executors"],
        [typeof(AgentOperatorResponseGetTasks)] = ["pending_tasks", "queued_tasks", "launched_tasks", "terminated_tasks", "completed_tasks"],
        [typeof(AgentOperatorResponseGetAgent)] = ["agent_info", "drain_config", "estimated_drain_start_time"],
    };

    /// <summary>Enum members with their proto numbers.</summary>
    private static readonly Dictionary<Type, (string Name, int Number)[]> ProtoEnums = new()
    {
        [typeof(ExecutorCallType)] = [("UNKNOWN", 0), ("SUBSCRIBE", 1), ("UPDATE", 2), ("MESSAGE", 3)],
        [typeof(ExecutorEventType)] =
        [
            ("UNKNOWN", 0), ("SUBSCRIBED", 1), ("LAUNCH", 2), ("LAUNCH_GROUP", 8), ("KILL", 3), ("ACKNOWLEDGED", 4),
            ("MESSAGE", 5), ("ERROR", 6), ("SHUTDOWN", 7), ("HEARTBEAT", 9),
        ],
        [typeof(TaskState)] =
        [
            ("TASK_STAGING", 6), ("TASK_STARTING", 0), ("TASK_RUNNING", 1), ("TASK_KILLING", 8), ("TASK_FINISHED", 2),
            ("TASK_FAILED", 3), ("TASK_KILLED", 4), ("TASK_ERROR", 7), ("TASK_LOST", 5), ("TASK_DROPPED", 9),
            ("TASK_UNREACHABLE", 10), ("TASK_GONE", 11), ("TASK_GONE_BY_OPERATOR", 12), ("TASK_UNKNOWN", 13),
        ],
        [typeof(TaskStatusSource)] = [("SOURCE_MASTER", 0), ("SOURCE_AGENT", 1), ("SOURCE_EXECUTOR", 2)],
        [typeof(TaskStatusReason)] =
        [
            ("REASON_COMMAND_EXECUTOR_FAILED", 0), ("REASON_CONTAINER_LAUNCH_FAILED", 21),
            ("REASON_CONTAINER_LIMITATION", 19), ("REASON_CONTAINER_LIMITATION_DISK", 20),
            ("REASON_CONTAINER_LIMITATION_MEMORY", 8), ("REASON_CONTAINER_PREEMPTED", 17),
            ("REASON_CONTAINER_UPDATE_FAILED", 22), ("REASON_MAX_COMPLETION_TIME_REACHED", 33),
            ("REASON_EXECUTOR_REGISTRATION_TIMEOUT", 23), ("REASON_EXECUTOR_REREGISTRATION_TIMEOUT", 24),
            ("REASON_EXECUTOR_TERMINATED", 1), ("REASON_EXECUTOR_UNREGISTERED", 2), ("REASON_FRAMEWORK_REMOVED", 3),
            ("REASON_GC_ERROR", 4), ("REASON_INVALID_FRAMEWORKID", 5), ("REASON_INVALID_OFFERS", 6),
            ("REASON_IO_SWITCHBOARD_EXITED", 27), ("REASON_MASTER_DISCONNECTED", 7), ("REASON_RECONCILIATION", 9),
            ("REASON_RESOURCES_UNKNOWN", 18), ("REASON_AGENT_DISCONNECTED", 10), ("REASON_AGENT_REMOVED", 11),
            ("REASON_AGENT_REMOVED_BY_OPERATOR", 31), ("REASON_AGENT_REREGISTERED", 32), ("REASON_AGENT_RESTARTED", 12),
            ("REASON_AGENT_UNKNOWN", 13), ("REASON_TASK_KILLED_DURING_LAUNCH", 30),
            ("REASON_TASK_CHECK_STATUS_UPDATED", 28), ("REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", 29),
            ("REASON_TASK_GROUP_INVALID", 25), ("REASON_TASK_GROUP_UNAUTHORIZED", 26), ("REASON_TASK_INVALID", 14),
            ("REASON_TASK_UNAUTHORIZED", 15), ("REASON_TASK_UNKNOWN", 16),
        ],
        [typeof(ContainerInfoType)] = [("DOCKER", 1), ("MESOS", 2)],
        [typeof(ContainerInfoDockerInfoNetwork)] = [("HOST", 1), ("BRIDGE", 2), ("NONE", 3), ("USER", 4)],
        [typeof(ImageType)] = [("APPC", 1), ("DOCKER", 2)],
        [typeof(MountPropagationMode)] = [("UNKNOWN", 0), ("HOST_TO_CONTAINER", 1), ("BIDIRECTIONAL", 2)],
        [typeof(VolumeMode)] = [("RW", 1), ("RO", 2)],
        [typeof(VolumeSourceType)] = [("UNKNOWN", 0), ("DOCKER_VOLUME", 1), ("HOST_PATH", 4), ("SANDBOX_PATH", 2), ("SECRET", 3)],
        [typeof(VolumeSourceSandboxPathType)] = [("UNKNOWN", 0), ("SELF", 1), ("PARENT", 2)],
        [typeof(NetworkInfoProtocol)] = [("IPv4", 1), ("IPv6", 2)],
        [typeof(HealthCheckType)] = [("UNKNOWN", 0), ("COMMAND", 1), ("HTTP", 2), ("TCP", 3)],
        [typeof(CheckInfoType)] = [("UNKNOWN", 0), ("COMMAND", 1), ("HTTP", 2), ("TCP", 3)],
        [typeof(ValueType)] = [("SCALAR", 0), ("RANGES", 1), ("SET", 2), ("TEXT", 3)],
        [typeof(ReservationInfoType)] = [("UNKNOWN", 0), ("STATIC", 1), ("DYNAMIC", 2)],
        [typeof(PseudoattributeType)] = [("UNKNOWN", 0), ("HOSTNAME", 1), ("REGION", 2), ("ZONE", 3)],
        [typeof(OperationState)] =
        [
            ("OPERATION_UNSUPPORTED", 0), ("OPERATION_PENDING", 1), ("OPERATION_FINISHED", 2), ("OPERATION_FAILED", 3),
            ("OPERATION_ERROR", 4), ("OPERATION_DROPPED", 5), ("OPERATION_UNREACHABLE", 6), ("OPERATION_GONE_BY_OPERATOR", 7),
            ("OPERATION_RECOVERING", 8), ("OPERATION_UNKNOWN", 9),
        ],
        [typeof(FrameworkInfoCapabilityType)] =
        [
            ("UNKNOWN", 0), ("REVOCABLE_RESOURCES", 1), ("TASK_KILLING_STATE", 2), ("GPU_RESOURCES", 3),
            ("SHARED_RESOURCES", 4), ("PARTITION_AWARE", 5), ("MULTI_ROLE", 6), ("RESERVATION_REFINEMENT", 7),
            ("REGION_AWARE", 8),
        ],
        [typeof(OfferOperationType)] =
        [
            ("UNKNOWN", 0), ("LAUNCH", 1), ("LAUNCH_GROUP", 6), ("RESERVE", 2), ("UNRESERVE", 3), ("CREATE", 4),
            ("DESTROY", 5), ("GROW_VOLUME", 11), ("SHRINK_VOLUME", 12), ("CREATE_DISK", 13), ("DESTROY_DISK", 14),
        ],
        [typeof(EnvironmentVariableType)] = [("UNKNOWN", 0), ("VALUE", 1), ("SECRET", 2)],
        [typeof(SecretType)] = [("UNKNOWN", 0), ("REFERENCE", 1), ("VALUE", 2)],
        [typeof(ExecutorInfoType)] = [("UNKNOWN", 0), ("DEFAULT", 1), ("CUSTOM", 2)],
        [typeof(CallType)] =
        [
            ("UNKNOWN", 0), ("SUBSCRIBE", 1), ("TEARDOWN", 2), ("ACCEPT", 3), ("DECLINE", 4),
            ("ACCEPT_INVERSE_OFFERS", 13), ("DECLINE_INVERSE_OFFERS", 14), ("REVIVE", 5), ("KILL", 6), ("SHUTDOWN", 7),
            ("ACKNOWLEDGE", 8), ("ACKNOWLEDGE_OPERATION_STATUS", 15), ("RECONCILE", 9), ("RECONCILE_OPERATIONS", 16),
            ("MESSAGE", 10), ("REQUEST", 11), ("SUPPRESS", 12), ("UPDATE_FRAMEWORK", 17),
        ],
        [typeof(EventType)] =
        [
            ("UNKNOWN", 0), ("SUBSCRIBED", 1), ("OFFERS", 2), ("INVERSE_OFFERS", 9), ("RESCIND", 3),
            ("RESCIND_INVERSE_OFFER", 10), ("UPDATE", 4), ("UPDATE_OPERATION_STATUS", 11), ("MESSAGE", 5),
            ("FAILURE", 6), ("ERROR", 7), ("HEARTBEAT", 8),
        ],
        [typeof(MasterCallType)] =
        [
            ("UNKNOWN", 0), ("GET_HEALTH", 1), ("GET_FLAGS", 2), ("GET_VERSION", 3), ("GET_METRICS", 4),
            ("GET_LOGGING_LEVEL", 5), ("SET_LOGGING_LEVEL", 6), ("LIST_FILES", 7), ("READ_FILE", 8), ("GET_STATE", 9),
            ("GET_AGENTS", 10), ("GET_FRAMEWORKS", 11), ("GET_EXECUTORS", 12), ("GET_OPERATIONS", 33), ("GET_TASKS", 13),
            ("GET_ROLES", 14), ("GET_WEIGHTS", 15), ("UPDATE_WEIGHTS", 16), ("GET_MASTER", 17), ("SUBSCRIBE", 18),
            ("RESERVE_RESOURCES", 19), ("UNRESERVE_RESOURCES", 20), ("CREATE_VOLUMES", 21), ("DESTROY_VOLUMES", 22),
            ("GROW_VOLUME", 34), ("SHRINK_VOLUME", 35), ("GET_MAINTENANCE_STATUS", 23), ("GET_MAINTENANCE_SCHEDULE", 24),
            ("UPDATE_MAINTENANCE_SCHEDULE", 25), ("START_MAINTENANCE", 26), ("STOP_MAINTENANCE", 27), ("DRAIN_AGENT", 37),
            ("DEACTIVATE_AGENT", 38), ("REACTIVATE_AGENT", 39), ("GET_QUOTA", 28), ("UPDATE_QUOTA", 36), ("SET_QUOTA", 29),
            ("REMOVE_QUOTA", 30), ("TEARDOWN", 31), ("MARK_AGENT_GONE", 32),
        ],
        [typeof(MasterResponseType)] =
        [
            ("UNKNOWN", 0), ("GET_HEALTH", 1), ("GET_FLAGS", 2), ("GET_VERSION", 3), ("GET_METRICS", 4),
            ("GET_LOGGING_LEVEL", 5), ("LIST_FILES", 6), ("READ_FILE", 7), ("GET_STATE", 8), ("GET_AGENTS", 9),
            ("GET_FRAMEWORKS", 10), ("GET_EXECUTORS", 11), ("GET_OPERATIONS", 19), ("GET_TASKS", 12), ("GET_ROLES", 13),
            ("GET_WEIGHTS", 14), ("GET_MASTER", 15), ("GET_MAINTENANCE_STATUS", 16), ("GET_MAINTENANCE_SCHEDULE", 17),
            ("GET_QUOTA", 18),
        ],
        [typeof(MasterEventType)] =
        [
            ("UNKNOWN", 0), ("SUBSCRIBED", 1), ("TASK_ADDED", 2), ("TASK_UPDATED", 3), ("AGENT_ADDED", 4),
            ("AGENT_REMOVED", 5), ("FRAMEWORK_ADDED", 6), ("FRAMEWORK_UPDATED", 7), ("FRAMEWORK_REMOVED", 8), ("HEARTBEAT", 9),
        ],
        [typeof(DrainState)] = [("UNKNOWN", 0), ("DRAINING", 1), ("DRAINED", 2)],
        [typeof(InverseOfferStatusType)] = [("UNKNOWN", 1), ("ACCEPT", 2), ("DECLINE", 3)],
        [typeof(AgentOperatorCallType)] =
        [
            ("UNKNOWN", 0), ("GET_HEALTH", 1), ("GET_FLAGS", 2), ("GET_VERSION", 3), ("GET_METRICS", 4),
            ("GET_LOGGING_LEVEL", 5), ("SET_LOGGING_LEVEL", 6), ("LIST_FILES", 7), ("READ_FILE", 8), ("GET_STATE", 9),
            ("GET_CONTAINERS", 10), ("GET_FRAMEWORKS", 11), ("GET_EXECUTORS", 12), ("GET_OPERATIONS", 31), ("GET_TASKS", 13),
            ("GET_AGENT", 20), ("GET_RESOURCE_PROVIDERS", 26), ("LAUNCH_NESTED_CONTAINER", 14), ("WAIT_NESTED_CONTAINER", 15),
            ("KILL_NESTED_CONTAINER", 16), ("REMOVE_NESTED_CONTAINER", 21), ("LAUNCH_NESTED_CONTAINER_SESSION", 17),
            ("ATTACH_CONTAINER_INPUT", 18), ("ATTACH_CONTAINER_OUTPUT", 19), ("LAUNCH_CONTAINER", 22), ("WAIT_CONTAINER", 23),
            ("KILL_CONTAINER", 24), ("REMOVE_CONTAINER", 25), ("ADD_RESOURCE_PROVIDER_CONFIG", 27),
            ("UPDATE_RESOURCE_PROVIDER_CONFIG", 28), ("REMOVE_RESOURCE_PROVIDER_CONFIG", 29),
            ("MARK_RESOURCE_PROVIDER_GONE", 32), ("PRUNE_IMAGES", 30),
        ],
        [typeof(AgentOperatorResponseType)] =
        [
            ("UNKNOWN", 0), ("GET_HEALTH", 1), ("GET_FLAGS", 2), ("GET_VERSION", 3), ("GET_METRICS", 4),
            ("GET_LOGGING_LEVEL", 5), ("LIST_FILES", 6), ("READ_FILE", 7), ("GET_STATE", 8), ("GET_CONTAINERS", 9),
            ("GET_FRAMEWORKS", 10), ("GET_EXECUTORS", 11), ("GET_OPERATIONS", 17), ("GET_TASKS", 12), ("GET_AGENT", 14),
            ("GET_RESOURCE_PROVIDERS", 16), ("WAIT_NESTED_CONTAINER", 13), ("WAIT_CONTAINER", 15),
        ],
    };

    public static TheoryData<string> WireTypes => [.. WireTypesInAssembly().Select(t => t.Name)];

    public static TheoryData<string> WireEnums => [.. ProtoEnums.Keys.Select(t => t.Name)];

    [Fact]
    public void Every_wire_type_has_a_proto_table()
    {
        WireTypesInAssembly().Should().BeEquivalentTo(ProtoFields.Keys);
    }

    [Theory]
    [MemberData(nameof(WireTypes))]
    public void Json_field_names_are_proto_field_names(string typeName)
    {
        var type = ProtoFields.Keys.Single(t => t.Name == typeName);
        var info = MesosJsonContext.Default.GetTypeInfo(type);

        info.Should().NotBeNull($"{typeName} must be reachable from MesosJsonContext");
        var names = info!.Properties.Select(p => p.Name).ToList();
        if (ProtoFields[type].Length == 0)
        {
            names.Should().BeEmpty("an empty proto message such as Exists is an empty JSON object");
        }
        else
        {
            names.Should().NotBeEmpty();
        }

        names.Should().BeSubsetOf(ProtoFields[type], $"every JSON field of {typeName} must be spelled as in the proto");
    }

    [Theory]
    [MemberData(nameof(WireEnums))]
    public void Enum_members_are_the_proto_names_and_numbers(string enumName)
    {
        var type = ProtoEnums.Keys.Single(t => t.Name == enumName);

        var members = Enum.GetValues(type).Cast<object>().Select(v => (Name: v.ToString()!, Number: Convert.ToInt32(v, null)));

        members.Should().BeEquivalentTo(ProtoEnums[type]);
    }

    private static Type[] WireTypesInAssembly() =>
        [.. typeof(Call).Assembly.GetTypes().Where(t => t.Namespace == "Mezzo.Protocol.V1" && t.IsClass && t.IsPublic)];
}

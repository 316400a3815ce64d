using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent;

public sealed partial class AgentService
{
    /// <summary>The agent's /state in Mesos's shape (frameworks → executors → tasks).</summary>
    public Task<byte[]> GetStateJsonAsync() => Ask(() => JsonSerializer.SerializeToUtf8Bytes(BuildState()));

    public Task<Dictionary<string, double>> GetMetricsAsync() => Ask(() =>
    {
        var all = _tasks.Values.ToList();
        double Count(TaskState state) => all.Count(t => t.State == state);
        double Done(TaskState state) => _completed.Count(t => t.State == state);
        return new Dictionary<string, double>
        {
            ["slave/registered"] = _streamId is null ? 0 : 1,
            ["slave/uptime_secs"] = (_time.GetUtcNow() - StartTime).TotalSeconds,
            ["slave/tasks_staging"] = Count(TaskState.TASK_STAGING),
            ["slave/tasks_starting"] = Count(TaskState.TASK_STARTING),
            ["slave/tasks_running"] = Count(TaskState.TASK_RUNNING),
            ["slave/tasks_killing"] = Count(TaskState.TASK_KILLING),
            ["slave/tasks_finished"] = Done(TaskState.TASK_FINISHED) + Count(TaskState.TASK_FINISHED),
            ["slave/tasks_failed"] = Done(TaskState.TASK_FAILED) + Count(TaskState.TASK_FAILED),
            ["slave/tasks_killed"] = Done(TaskState.TASK_KILLED) + Count(TaskState.TASK_KILLED),
            ["slave/cpus_total"] = Total.Cpus,
            ["slave/mem_total"] = Total.Mem,
            ["slave/disk_total"] = Total.Disk,
            ["slave/cpus_used"] = all.Where(t => !t.IsTerminal).Sum(t => Scalar(t, "cpus")),
            ["slave/mem_used"] = all.Where(t => !t.IsTerminal).Sum(t => Scalar(t, "mem")),
            ["slave/executors_running"] = all.Count(t => t.Executor is null && t.Process is { HasExited: false }) + RunningExecutorCount(),
            ["slave/valid_status_updates"] = all.Sum(t => t.PendingUpdates.Count),
        };
    });

    private static double Scalar(AgentTask task, string name) =>
        (task.Info.Resources ?? []).Where(r => r.Name == name).Sum(r => r.Scalar?.Value ?? 0);

    private JsonObject BuildState()
    {
        var frameworks = new JsonArray();
        foreach (var group in _tasks.Values.Concat(_completed).GroupBy(t => t.FrameworkId))
        {
            var framework = group.First().Framework;
            var executors = new JsonArray();
            var completedExecutors = new JsonArray();
            AddExecutorsJson(group.Key, executors, completedExecutors);
            foreach (var task in group.Where(t => t.Executor is null))
            {
                var executor = ExecutorJson(task);
                (task.IsTerminal && !_tasks.ContainsKey((task.FrameworkId, task.TaskId)) ? completedExecutors : executors).Add(executor);
            }

            frameworks.Add(new JsonObject
            {
                ["id"] = group.Key,
                ["name"] = framework.Name,
                ["user"] = framework.User,
                ["hostname"] = framework.Hostname ?? "",
                ["role"] = framework.Role ?? "*",
                ["checkpoint"] = framework.Checkpoint ?? false,
                ["failover_timeout"] = framework.FailoverTimeout ?? 0,
                ["executors"] = executors,
                ["completed_executors"] = completedExecutors,
            });
        }

        return new JsonObject
        {
            ["version"] = "1.11.0",
            ["id"] = _agentId ?? "",
            ["pid"] = $"slave(1)@{_options.Ip}:{_options.Port}",
            ["hostname"] = _options.Hostname,
            ["start_time"] = StartTime.ToUnixTimeMilliseconds() / 1000.0,
            ["master_hostname"] = _link.Master.Host,
            ["resources"] = ResourcesJson(Total),
            ["reserved_resources"] = new JsonObject(),
            ["unreserved_resources"] = ResourcesJson(Total.Unreserved),
            ["attributes"] = AttributesJson(),
            ["flags"] = new JsonObject
            {
                ["master"] = _options.Master,
                ["work_dir"] = _options.WorkDir,
                ["port"] = _options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["hostname"] = _options.Hostname,
                ["resources"] = Total.ToString(),
                ["isolation"] = _options.Isolation,
                ["cgroups_hierarchy"] = _options.CgroupsHierarchy,
                ["cgroups_root"] = _options.CgroupsRoot,
                ["cgroups_enable_cfs"] = _options.CgroupsEnableCfs ? "true" : "false",
                ["cgroups_max_pids"] = _options.CgroupsMaxPids.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["default_kill_grace_period"] = $"{_options.DefaultKillGracePeriod.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}secs",
                ["container_logger"] = _options.ContainerLogger.Kind == Sandbox.ContainerLoggerKind.Logrotate ? "logrotate" : "sandbox",
                ["container_logger_max_size"] = _options.ContainerLogger.MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture) + "B",
                ["container_logger_max_files"] = _options.ContainerLogger.MaxFiles.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            ["frameworks"] = frameworks,
            ["completed_frameworks"] = new JsonArray(),
        };
    }

    private JsonObject ExecutorJson(AgentTask task)
    {
        var taskJson = new JsonObject
        {
            ["id"] = task.TaskId,
            ["name"] = task.Info.Name,
            ["framework_id"] = task.FrameworkId,
            ["executor_id"] = "",
            ["slave_id"] = _agentId,
            ["state"] = task.State.ToString(),
            ["resources"] = ResourcesJson(ResourceConversion.ToCore(task.Info.Resources ?? [])),
            ["statuses"] = new JsonArray(),
        };
        var running = !task.IsTerminal;
        return new JsonObject
        {
            ["id"] = task.ExecutorId,
            ["name"] = $"Command Executor (Task: {task.TaskId}) (Command: sh -c '{task.Info.Command?.Value}')",
            ["source"] = task.TaskId,
            ["container"] = task.ContainerId,
            ["directory"] = task.Sandbox,
            ["resources"] = ResourcesJson(ResourceConversion.ToCore(task.Info.Resources ?? [])),
            ["tasks"] = running ? new JsonArray(taskJson) : new JsonArray(),
            ["queued_tasks"] = new JsonArray(),
            ["completed_tasks"] = running ? new JsonArray() : new JsonArray(taskJson),
        };
    }

    private JsonObject AttributesJson()
    {
        var json = new JsonObject();
        foreach (var attribute in Attributes)
        {
            json[attribute.Name] = attribute.Type switch
            {
                AttributeType.Scalar => JsonValue.Create(attribute.Scalar),
                AttributeType.Text => JsonValue.Create(attribute.Text),
                AttributeType.Ranges => JsonValue.Create(attribute.Ranges?.ToString()),
                _ => JsonValue.Create("{" + string.Join(",", attribute.Set ?? []) + "}"),
            };
        }

        return json;
    }

    private static JsonObject ResourcesJson(Resources resources)
    {
        var json = new JsonObject { ["cpus"] = 0.0, ["mem"] = 0.0, ["disk"] = 0.0, ["gpus"] = 0.0 };
        foreach (var name in resources.Names)
        {
            var first = resources.First(r => r.Name == name);
            json[name] = first.Type == ResourceType.Scalar
                ? JsonValue.Create(resources.Scalar(name))
                : JsonValue.Create(first.Type == ResourceType.Ranges ? first.Ranges.ToString() : "{" + string.Join(",", first.Set) + "}");
        }

        return json;
    }
}

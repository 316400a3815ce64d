using Mezzo.Core.Resources;
using Mezzo.Master.State;
using Mezzo.Protocol;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Scheduler;

/// <summary>Mesos's checks on a TaskInfo in a LAUNCH, with Mesos's wording where it has one.</summary>
public static class TaskValidation
{
    private static bool RunsImage(ContainerInfo? container) =>
        container is { Type: ContainerInfoType.DOCKER } || container?.Mesos?.Image is not null;

    public static string? Validate(TaskInfo task, FrameworkEntry framework, string agentId, string role, Resources pool, out Resources resources)
    {
        resources = Resources.Empty;
        var taskId = task.TaskId?.Value;
        if (ValidateId(taskId) is { } idError)
        {
            return $"Task ID '{taskId}' is invalid: {idError}";
        }

        if (string.IsNullOrEmpty(task.Name))
        {
            return "Task 'name' must be set";
        }

        if (framework.Tasks.ContainsKey(taskId!))
        {
            return $"Task has duplicate ID: {taskId}";
        }

        if (task.AgentId?.Value != agentId)
        {
            return $"Task uses invalid agent: {task.AgentId?.Value}";
        }

        if ((task.Command is null) == (task.Executor is null))
        {
            return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present";
        }

        if (task.Command is { } command && command.Shell != false && string.IsNullOrEmpty(command.Value))
        {
            return "Task's command must have 'value' set for a shell command";
        }

        // With an image, shell=false and no value means the image's Entrypoint/Cmd (Mesos's docker/runtime rules).
        if (task.Command is { Shell: false } plain && string.IsNullOrEmpty(plain.Value) && !RunsImage(task.Container))
        {
            return "Task's command must have 'value' (the executable) set when 'shell' is false";
        }

        if (task.Executor is { Type: ExecutorInfoType.DEFAULT })
        {
            return "The DEFAULT executor runs task groups only: launch it with LAUNCH_GROUP";
        }

        if (task.KillPolicy?.GracePeriod?.Nanoseconds is < 0)
        {
            return "Task's 'kill_policy.grace_period' must be non-negative";
        }

        if (CheckValidation.ValidateTask(task) is { } checkError)
        {
            return checkError;
        }

        if (Protocol.Secrets.EnvironmentValidation.Validate(task.Command) is { } environmentError)
        {
            return $"Task's CommandInfo is invalid: {environmentError}";
        }

        var wire = task.Resources ?? [];
        if (ResourceConversion.Validate(wire) is { } resourceError)
        {
            return $"Task uses invalid resources: {resourceError}";
        }

        Resources requested;
        try
        {
            requested = ResourceConversion.ToCore(wire);
        }
        catch (FormatException ex)
        {
            return $"Task uses invalid resources: {ex.Message}";
        }

        if (requested.IsEmpty)
        {
            return "Task uses no resources";
        }

        if (AllocationError(requested, framework, role) is { } allocationError)
        {
            return allocationError;
        }

        requested = requested.AllocateTo(role);
        if (!pool.Contains(requested))
        {
            return $"Task uses more resources {requested.Unallocate()} than available {pool.Unallocate()}";
        }

        resources = requested;
        return null;
    }

    /// <summary>
    /// Resources used from an offer are allocated to its role. A non-MULTI_ROLE framework may omit
    /// <c>allocation_info</c> and Mesos injects it; a MULTI_ROLE framework must say which of its roles it uses.
    /// </summary>
    public static string? AllocationError(Resources requested, FrameworkEntry framework, string role)
    {
        foreach (var resource in requested)
        {
            if (resource.AllocationRole is null)
            {
                if (framework.MultiRole)
                {
                    return $"Resource '{resource.Name}' must have 'allocation_info.role' set: the framework is MULTI_ROLE capable";
                }
            }
            else if (resource.AllocationRole != role)
            {
                return $"Resource '{resource.Name}' is allocated to role '{resource.AllocationRole}' but the offer is allocated to role '{role}'";
            }
        }

        return null;
    }

    /// <summary>Mesos's common ID rules (task, framework, executor ids).</summary>
    public static string? ValidateId(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "ID must not be empty";
        }

        if (id.Length > 255)
        {
            return "ID must not be longer than 255 characters";
        }

        if (id is "." or "..")
        {
            return "'.' and '..' are not allowed";
        }

        foreach (var c in id)
        {
            if (c == '/')
            {
                return "'/' is not allowed";
            }

            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return "Whitespace and control characters are not allowed";
            }
        }

        return null;
    }
}

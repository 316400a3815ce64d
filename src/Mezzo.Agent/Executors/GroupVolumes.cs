using System.Text;
using Mezzo.Agent.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Executors;

/// <summary>
/// SANDBOX_PATH volumes of type PARENT on the tasks of a task group: a directory of the executor's sandbox that the
/// group's tasks share. With mount namespaces (filesystem/linux) it is bind-mounted at
/// <c>$MESOS_SANDBOX/&lt;container_path&gt;</c> inside the task's namespace, read-only for RO volumes, as Mesos does.
/// Either way its real path is also handed to the task as <c>MEZZO_VOLUME_&lt;CONTAINER_PATH&gt;</c>: without a mount
/// namespace that is the only way to it (no symlink into the sandbox, which would let the sandbox browser wander), and
/// read-only mode is then not enforced.
/// </summary>
public static class GroupVolumes
{
    public static IEnumerable<Volume> ParentVolumes(TaskInfo task) =>
        (task.Container?.Volumes ?? []).Where(v => v.Source is { Type: VolumeSourceType.SANDBOX_PATH, SandboxPath.Type: VolumeSourceSandboxPathType.PARENT });

    /// <summary>Checks every PARENT volume of <paramref name="task"/>: an error naming the volume, or null.</summary>
    public static string? Validate(TaskInfo task)
    {
        foreach (var volume in ParentVolumes(task))
        {
            var source = volume.Source!.SandboxPath!.Path;
            if (string.IsNullOrEmpty(source) || Path.IsPathRooted(source) || Escapes(source))
            {
                return $"SANDBOX_PATH volume source '{source}' of task '{task.TaskId?.Value}' must be a relative path inside the executor's sandbox";
            }

            var target = volume.ContainerPath;
            if (string.IsNullOrEmpty(target) || Path.IsPathRooted(target) || Escapes(target))
            {
                return $"SANDBOX_PATH volume container_path '{target}' of task '{task.TaskId?.Value}' must be a relative path inside the task's sandbox";
            }
        }

        return null;
    }

    /// <summary>Creates the shared directories in the executor's sandbox (idempotent: the group's tasks share them).</summary>
    public static void Prepare(AgentExecutor executor, TaskInfo task)
    {
        foreach (var volume in ParentVolumes(task))
        {
            Directory.CreateDirectory(Path.Combine(executor.Sandbox, volume.Source!.SandboxPath!.Path!));
        }
    }

    /// <summary>The bind mounts that put a group task's PARENT volumes at their container paths in its sandbox.</summary>
    public static IReadOnlyList<Launcher.BindMount> Binds(AgentTask task)
    {
        if (task.Executor is not { IsDefault: true } executor)
        {
            return [];
        }

        return [.. ParentVolumes(task.Info).Select(volume => new Launcher.BindMount(
            Path.GetFullPath(Path.Combine(executor.Sandbox, volume.Source!.SandboxPath!.Path!)),
            Path.GetFullPath(Path.Combine(task.Sandbox, volume.ContainerPath!)),
            volume.Mode == VolumeMode.RO))];
    }

    /// <summary>The variables that tell a group task where its PARENT volumes are.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment(AgentTask task)
    {
        if (task.Executor is not { IsDefault: true } executor)
        {
            yield break;
        }

        foreach (var volume in ParentVolumes(task.Info))
        {
            yield return new(VariableName(volume.ContainerPath!), Path.GetFullPath(Path.Combine(executor.Sandbox, volume.Source!.SandboxPath!.Path!)));
        }
    }

    /// <summary>MEZZO_VOLUME_ and the container path upper-cased, every other character than A-Z and 0-9 an underscore.</summary>
    public static string VariableName(string containerPath)
    {
        var name = new StringBuilder("MEZZO_VOLUME_");
        foreach (var c in containerPath.Trim('/').ToUpperInvariant())
        {
            name.Append(c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') ? c : '_');
        }

        return name.ToString();
    }

    /// <summary>Any '..' component is refused: simpler to state than "does not climb out", and never needed.</summary>
    private static bool Escapes(string path) => path.Split('/').Contains("..", StringComparer.Ordinal);
}

using System.Globalization;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tasks;

/// <summary>The environment a command task starts with: Mesos's variables, then the task's own on top.</summary>
public static class TaskEnvironment
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// <paramref name="secrets"/> resolves SECRET variables (throwing <see cref="Secrets.SecretResolutionException"/>);
    /// null leaves them out, for an environment rebuilt after a restart where nothing is launched.
    /// </summary>
    public static Dictionary<string, string> Build(AgentTask task, string agentId, AgentOptions options, Secrets.SecretStore? secrets)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = DefaultPath,
            ["HOST"] = options.Hostname,
            ["MESOS_TASK_ID"] = task.TaskId,
            ["MESOS_FRAMEWORK_ID"] = task.FrameworkId,
            ["MESOS_EXECUTOR_ID"] = task.ExecutorId,
            ["MESOS_AGENT_ID"] = agentId,
            ["MESOS_SLAVE_ID"] = agentId,
            ["MESOS_SANDBOX"] = task.Sandbox,
            ["MESOS_DIRECTORY"] = task.Sandbox,
            ["MESOS_AGENT_ENDPOINT"] = $"{options.Ip}:{options.Port}",
            ["MESOS_SLAVE_PID"] = $"slave(1)@{options.Ip}:{options.Port}",
            ["MESOS_CONTAINER_NAME"] = "mesos-" + task.ContainerId,
            ["MESOS_CHECKPOINT"] = task.Framework.Checkpoint == true ? "1" : "0",
            ["MESOS_FRAMEWORK_NAME"] = task.Framework.Name ?? "",
            ["MESOS_TASK_NAME"] = task.Info.Name ?? "",
        };
        var ports = new List<ulong>();
        foreach (var resource in task.Info.Resources ?? [])
        {
            if (resource.Name == "ports")
            {
                foreach (var range in resource.Ranges?.Range ?? [])
                {
                    for (var port = range.Begin ?? 0; port <= (range.End ?? 0) && ports.Count < 1000; port++)
                    {
                        ports.Add(port);
                    }
                }
            }
        }

        for (var i = 0; i < ports.Count; i++)
        {
            env["PORT" + i.ToString(CultureInfo.InvariantCulture)] = ports[i].ToString(CultureInfo.InvariantCulture);
        }

        if (ports.Count > 0)
        {
            env["PORT"] = ports[0].ToString(CultureInfo.InvariantCulture);
            env["PORTS"] = string.Join(",", ports);
        }

        foreach (var (name, value) in Executors.GroupVolumes.Environment(task))
        {
            env[name] = value;
        }

        foreach (var (name, value) in (secrets ?? Secrets.SecretStore.None).Variables(task.Info.Command, resolveSecrets: secrets is not null))
        {
            env[name] = value;
        }

        return env;
    }
}

using System.Collections;
using System.Globalization;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Executors;

/// <summary>How a custom executor's process is started: its command, with Mesos's executor environment.</summary>
public static class ExecutorLaunch
{
    public static LaunchSpec Spec(AgentExecutor executor, IReadOnlyDictionary<string, string> environment) =>
        CommandSpec.From(executor.Info.Command ?? throw new ArgumentException($"Executor '{executor.ExecutorId}' has no command"), executor.Framework, executor.Sandbox, environment);

    /// <summary>
    /// docs/executor-http-api.md "Executor Environment Variables": the executor inherits the agent's environment, then
    /// Mesos's variables, then its CommandInfo's own on top.
    /// </summary>
    public static Dictionary<string, string> Environment(AgentExecutor executor, string agentId, AgentOptions options, TimeSpan shutdownGracePeriod, Secrets.SecretStore secrets)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value && !key.StartsWith("MESOS_", StringComparison.Ordinal))
            {
                env[key] = value;
            }
        }

        env.TryAdd("PATH", TaskEnvironment.DefaultPath);
        var checkpoint = executor.Framework.Checkpoint == true;
        env["MESOS_FRAMEWORK_ID"] = executor.FrameworkId;
        env["MESOS_EXECUTOR_ID"] = executor.ExecutorId;
        env["MESOS_DIRECTORY"] = executor.Sandbox;
        env["MESOS_SANDBOX"] = executor.Sandbox;
        env["MESOS_AGENT_ID"] = agentId;
        env["MESOS_SLAVE_ID"] = agentId;
        env["MESOS_AGENT_ENDPOINT"] = $"{options.Ip}:{options.Port}";
        env["MESOS_SLAVE_PID"] = $"slave(1)@{options.Ip}:{options.Port}";
        env["MESOS_CONTAINER_NAME"] = "mesos-" + executor.ContainerId;
        env["MESOS_CHECKPOINT"] = checkpoint ? "1" : "0";
        env["MESOS_HTTP_COMMAND_EXECUTOR"] = "0";
        env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] = FormatDuration(shutdownGracePeriod);
        if (checkpoint)
        {
            env["MESOS_RECOVERY_TIMEOUT"] = FormatDuration(options.RecoveryTimeout);
            // Half the re-registration window: an executor retrying at its longest backoff still gets a try within it.
            env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = FormatDuration(options.ExecutorReregistrationTimeout / 2);
        }

        foreach (var (name, value) in secrets.Variables(executor.Info.Command))
        {
            env[name] = value;
        }

        return env;
    }

    /// <summary>Mesos's Duration text ("250ms", "5secs", "1mins"): the largest unit in which the value is at least 1.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        var ns = duration.Ticks * 100.0;
        (double Size, string Unit)[] units =
        [
            (7 * 24 * 3600e9, "weeks"), (24 * 3600e9, "days"), (3600e9, "hrs"), (60e9, "mins"), (1e9, "secs"), (1e6, "ms"), (1e3, "us"),
        ];
        foreach (var (size, unit) in units)
        {
            if (ns >= size)
            {
                return (ns / size).ToString("0.#########", CultureInfo.InvariantCulture) + unit;
            }
        }

        return ns.ToString("0", CultureInfo.InvariantCulture) + "ns";
    }

    /// <summary>Mesos's FAILURE status: the raw wait status (exit code in the high byte, or the signal number).</summary>
    public static int WaitStatus(ExitStatus exit) => exit.ExitCode is { } code ? (code & 0xff) << 8 : exit.Signal ?? 0;

    /// <summary>The executor's shutdown grace period: its own when set, else the agent's flag.</summary>
    public static TimeSpan ShutdownGracePeriod(ExecutorInfo info, AgentOptions options) =>
        info.ShutdownGracePeriod?.Nanoseconds is { } ns && ns >= 0 ? TimeSpan.FromTicks(ns / 100) : options.ExecutorShutdownGracePeriod;
}

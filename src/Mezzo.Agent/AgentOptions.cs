namespace Mezzo.Agent;

/// <summary>Agent flags. Defaults follow Mesos's where Mesos has the flag.</summary>
public sealed class AgentOptions
{
    /// <summary>Authentication (<c>--credentials</c>, <c>--authenticate-*</c>) and authorization (<c>--acls</c>).</summary>
    public Mezzo.Hosting.Security.SecurityOptions Security { get; set; } = new();

    /// <summary><c>--credential</c>: what the agent presents to the master (HTTP Basic on every call); null: nothing.</summary>
    public Mezzo.Core.Security.Credential? Credential { get; set; }

    /// <summary>
    /// <c>--allow-root-tasks</c>: whether a task or executor may run as root (uid 0), which is also what a task with no
    /// user runs as under an agent running as root. Off by default: a task of any framework would own the machine.
    /// </summary>
    public bool AllowRootTasks { get; set; }

    /// <summary>HTTPS listener, client certificate checks and trust (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c>).</summary>
    public Mezzo.Hosting.Tls.TlsOptions Tls { get; set; } = new();

    /// <summary>Master address: host:port or http://host:port.</summary>
    public string Master { get; set; } = "127.0.0.1:5050";

    public string WorkDir { get; set; } = Path.Combine(Environment.CurrentDirectory, ".mezzo", "agent");

    public string Ip { get; set; } = "127.0.0.1";

    public string Hostname { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 5051;

    /// <summary>--resources text; whatever it leaves out is detected.</summary>
    public string? Resources { get; set; }

    public string? Attributes { get; set; }

    /// <summary>How long an unacknowledged status update waits before it is sent again (Mesos: 10 s).</summary>
    public TimeSpan StatusUpdateRetryInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Grace period between SIGTERM and SIGKILL when neither task nor call names one (Mesos: 3 s).</summary>
    public TimeSpan DefaultKillGracePeriod { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Longest pause between attempts to reach the master.</summary>
    public TimeSpan MaxReconnectBackoff { get; set; } = TimeSpan.FromSeconds(5);

    public int MaxCompletedTasks { get; set; } = 1000;

    /// <summary>--isolation: Mesos isolator names; cgroups/* ones the host cannot give are left out with a warning.</summary>
    public string Isolation { get; set; } = Mezzo.Agent.Isolation.IsolationFlag.Default;

    /// <summary>--cgroups-hierarchy: where the cgroup file systems are mounted (Mesos: /sys/fs/cgroup).</summary>
    public string CgroupsHierarchy { get; set; } = "/sys/fs/cgroup";

    /// <summary>--cgroups-root: the cgroup all of Mezzo's containers live under, in every hierarchy (Mesos: mesos).</summary>
    public string CgroupsRoot { get; set; } = "mezzo";

    /// <summary>--cgroups-enable-cfs: also cap CPU time at the task's cpus with a CFS quota, not just weight it.</summary>
    public bool CgroupsEnableCfs { get; set; }

    /// <summary>--cgroups-max-pids: pids.max of each container, so a fork bomb stays inside its task.</summary>
    public int CgroupsMaxPids { get; set; } = 4096;

    /// <summary>--executor-registration-timeout: how long a custom executor has to SUBSCRIBE before it is destroyed (Mesos: 1 min).</summary>
    public TimeSpan ExecutorRegistrationTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>--executor-shutdown-grace-period: from SHUTDOWN to the executor's container being destroyed, unless
    /// ExecutorInfo.shutdown_grace_period says otherwise (Mesos: 5 s).</summary>
    public TimeSpan ExecutorShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>--executor-reregistration-timeout (Mesos's --executor_reregistration_timeout): how long an executor recovered at
    /// an agent restart has to subscribe again before it is destroyed; half of it is handed to checkpointing executors as
    /// MESOS_SUBSCRIPTION_BACKOFF_MAX.</summary>
    public TimeSpan ExecutorReregistrationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Mesos's --recovery_timeout, handed to checkpointing executors as MESOS_RECOVERY_TIMEOUT.</summary>
    public TimeSpan RecoveryTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>--container-disk-watch-interval: how often disk/du measures each sandbox (Mesos: 15 s).</summary>
    public TimeSpan ContainerDiskWatchInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>--enforce-container-disk-quota: with disk/du, kill a task whose sandbox outgrows its disk resource.</summary>
    public bool EnforceContainerDiskQuota { get; set; } = true;

    /// <summary>--fetcher-cache-dir; null: &lt;work_dir&gt;/fetch.</summary>
    public string? FetcherCacheDir { get; set; }

    /// <summary>--fetcher-cache-size in bytes (Mesos: 2GB); 0 turns the cache off.</summary>
    public long FetcherCacheSize { get; set; } = Fetching.FetcherOptions.DefaultCacheSize;

    /// <summary>--fetcher-stall-timeout: a download receiving nothing for this long fails (Mesos: 60 s).</summary>
    public TimeSpan FetcherStallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>--container-logger and its size bounds: where a task's stdout/stderr go.</summary>
    public Sandbox.ContainerLoggerOptions ContainerLogger { get; set; } = new();

    /// <summary>Image store flags: --docker-registry, --image-store-dir, --docker-config, --image-store-max-bytes.</summary>
    public Mezzo.Agent.Images.ImageOptions Images { get; set; } = new();

    /// <summary>
    /// --image-rootfs-dir: unpacked images, <c>&lt;dir&gt;/&lt;name_tag&gt;</c> plus an optional <c>&lt;name_tag&gt;.json</c>
    /// image config (see Containers.LocalImageResolver); null: tasks with an image fail.
    /// </summary>
    public string? ImageRootfsDir { get; set; }

    /// <summary>--secrets-dir: the agent's secret store; a REFERENCE secret's name is a file path inside it (see
    /// Secrets.SecretStore). Null: REFERENCE secrets fail their task.</summary>
    public string? SecretsDir { get; set; }

    /// <summary>--runc: the runc binary (default: runc on PATH).</summary>
    public string? RuncPath { get; set; }

    /// <summary>--recover: reconnect (default) takes back the tasks of checkpointing frameworks after a restart; cleanup
    /// kills every task a previous run left and exits (before an incompatible upgrade), as Mesos's --recover.</summary>
    public RecoverMode Recover { get; set; } = RecoverMode.Reconnect;

    /// <summary>--strict: a corrupt checkpoint stops the agent (Mesos's default); with false it is reported, moved
    /// aside as <c>*.corrupt</c>, and its task is treated as lost.</summary>
    public bool Strict { get; set; } = true;

    /// <summary>The per-task supervisor binary; by default the <c>mezzo-supervisor</c> shipped beside the agent.</summary>
    public string SupervisorPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "mezzo-supervisor");

    public string SandboxRoot => Path.Combine(WorkDir, "slaves");
}

public enum RecoverMode
{
    Reconnect,
    Cleanup,
}

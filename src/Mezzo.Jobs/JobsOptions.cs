using Mezzo.Protocol.Chronos;

namespace Mezzo.Jobs;

public sealed class JobsOptions
{
    /// <summary>Authentication (<c>--credentials</c>, <c>--authenticate-*</c>) and authorization (<c>--acls</c>).</summary>
    public Mezzo.Hosting.Security.SecurityOptions Security { get; set; } = new();

    /// <summary>Per-client token buckets on the API (<c>--rate-limit-qps</c>, <c>--rate-limit-burst</c>): 429 with Retry-After over it.</summary>
    public Mezzo.Hosting.Limits.ClientRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// The credential the framework presents to the master (Chronos's <c>--mesos_authentication_principal</c> and
    /// <c>--mesos_authentication_secret_file</c>), or null to subscribe unauthenticated.
    /// </summary>
    public Mezzo.Core.Security.Credential? MesosCredential { get; set; }

    /// <summary>HTTPS listener, client certificate checks and trust (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c>).</summary>
    public Mezzo.Hosting.Tls.TlsOptions Tls { get; set; } = new();

    /// <summary>Master address: host:port, a comma list, or etcd://... (as <see cref="Framework.SchedulerOptions.Master"/>).</summary>
    public required string Master { get; set; }

    /// <summary>HTTP port; 0 picks a free one (<see cref="JobsServer.Url"/> tells which).</summary>
    public int Port { get; set; } = 4400;

    public string Ip { get; set; } = "0.0.0.0";

    public string Hostname { get; set; } = System.Net.Dns.GetHostName();

    public required string WorkDir { get; set; }

    /// <summary>'sqlite' (a file in the work dir) or etcd://host:2379[,host:2379...][/prefix] for leader election among instances.</summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>With an etcd store: TTL of the lease that holds leadership; a dead leader is replaced after about this long.</summary>
    public TimeSpan LeaderLeaseTtl { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Chronos's --mesos_framework_name.</summary>
    public string FrameworkName { get; set; } = "chronos";

    /// <summary>Chronos's --failover_timeout (a week): the master keeps our tasks this long while we are away.</summary>
    public TimeSpan FailoverTimeout { get; set; } = TimeSpan.FromSeconds(604800);

    public string Role { get; set; } = "*";

    /// <summary>Chronos's --mesos_task_cpu/mem/disk, --user and --task_epsilon: defaults for fields a job leaves out.</summary>
    public JobDefaults Defaults { get; set; } = new();

    /// <summary>Chronos's --failure_retry: how long after a failure the next attempt is queued.</summary>
    public TimeSpan FailureRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often schedules and the queue are looked at.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Chronos's --reconciliation_interval: how often in-flight runs are reconciled with the master.</summary>
    public TimeSpan ReconciliationInterval { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>Finished runs kept per job for job/stat and the graph (all of them stay in the store).</summary>
    public int HistoryLimit { get; set; } = 100;
}

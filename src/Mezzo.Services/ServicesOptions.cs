namespace Mezzo.Services;

public sealed class ServicesOptions
{
    /// <summary>Authentication (<c>--credentials</c>, <c>--authenticate-*</c>) and authorization (<c>--acls</c>).</summary>
    public Mezzo.Hosting.Security.SecurityOptions Security { get; set; } = new();

    /// <summary>Per-client token buckets on the API (<c>--rate-limit-qps</c>, <c>--rate-limit-burst</c>): 429 with Retry-After over it.</summary>
    public Mezzo.Hosting.Limits.ClientRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// The credential the framework presents to the master (Marathon's <c>--mesos_authentication_principal</c> and
    /// <c>--mesos_authentication_secret_file</c>), or null to subscribe unauthenticated.
    /// </summary>
    public Mezzo.Core.Security.Credential? MesosCredential { get; set; }

    /// <summary>HTTPS listener, client certificate checks and trust (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c>).</summary>
    public Mezzo.Hosting.Tls.TlsOptions Tls { get; set; } = new();

    /// <summary>host:port, a comma list of masters, or etcd://... (as the scheduler SDK takes it).</summary>
    public required string Master { get; set; }

    public int Port { get; set; } = 8080;

    public string Ip { get; set; } = "0.0.0.0";

    /// <summary>Advertised in /v2/info, /v2/leader and the framework's webui_url.</summary>
    public string Hostname { get; set; } = System.Net.Dns.GetHostName();

    public required string WorkDir { get; set; }

    /// <summary>'sqlite' (a file in the work dir) or etcd://host:2379[,host:2379...][/prefix] for leader election among instances.</summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>With an etcd store: TTL of the lease that holds leadership; a dead leader is replaced after about this long.</summary>
    public TimeSpan LeaderLeaseTtl { get; set; } = TimeSpan.FromSeconds(4);

    public string FrameworkName { get; set; } = "marathon";

    /// <summary>The Mesos user tasks run as unless an app sets "user".</summary>
    public string User { get; set; } = Environment.UserName;

    /// <summary>How long the master keeps the framework's tasks while it is away (Marathon's default: one week).</summary>
    public TimeSpan FailoverTimeout { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Offers declined while nothing waits to launch are refused this long (Marathon's --decline_offer_duration).</summary>
    public TimeSpan DeclineOfferDuration { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Offers that fit no waiting task while some wait (e.g. constraints) come back after this.</summary>
    public TimeSpan ShortDeclineDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Explicit reconciliation of all known tasks, besides the one on every (re)subscription.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>While tasks wait to launch and no offer has come for this long, offers are revived again.</summary>
    public TimeSpan ReviveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often expired launch delays and pending kills are looked at.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Service ports for port definitions with port 0 come from this range (Marathon's local_port_min/max).</summary>
    public int LocalPortMin { get; set; } = 10000;

    public int LocalPortMax { get; set; } = 20000;

    /// <summary>Tasks launched from one offer at most (Marathon's --max_instances_per_offer).</summary>
    public int MaxTasksPerOffer { get; set; } = 100;

    /// <summary>Marathon's maintenance mode (default on): decline offers from agents in (or about to enter) a maintenance window.</summary>
    public bool MaintenanceMode { get; set; } = true;

    /// <summary>How long before a maintenance window offers from its agents are declined (Marathon's --draining_seconds, default 0).</summary>
    public TimeSpan DrainingTime { get; set; } = TimeSpan.Zero;

    /// <summary>Marathon-side health probes (HTTP, HTTPS, TCP) running at once; the rest wait their turn.</summary>
    public int HealthCheckConcurrency { get; set; } = 16;

    /// <summary>Probes waiting for a free worker at most; a due probe finding the queue full is skipped until its next interval.</summary>
    public int HealthCheckQueue { get; set; } = 4096;

    /// <summary>
    /// HTTP callback event subscriptions (/v2/eventSubscriptions): on by default, unlike Marathon's
    /// --event_subscriber http_callback, because the tools that use them expect the endpoint; off answers as Marathon does.
    /// </summary>
    public bool HttpCallbacks { get; set; } = true;

    /// <summary>Events kept per callback subscriber while it is slow or down; older ones are dropped first.</summary>
    public int CallbackQueue { get; set; } = 1000;

    /// <summary>One POST to a callback subscriber may take this long.</summary>
    public TimeSpan CallbackTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts per event and callback subscriber (retried with doubling backoff from 1 s) before it is dropped.</summary>
    public int CallbackAttempts { get; set; } = 3;

    /// <summary>Largest accepted request body.</summary>
    public long MaxRequestBytes { get; set; } = 1024 * 1024;
}

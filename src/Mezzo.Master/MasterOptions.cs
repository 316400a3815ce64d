namespace Mezzo.Master;

/// <summary>Master flags. Defaults follow Mesos's where Mesos has the flag.</summary>
public sealed class MasterOptions
{
    /// <summary>Authentication (<c>--credentials</c>, <c>--authenticate-*</c>) and authorization (<c>--acls</c>).</summary>
    public Mezzo.Hosting.Security.SecurityOptions Security { get; set; } = new();

    /// <summary>HTTPS listener, client certificate checks and trust (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c>).</summary>
    public Mezzo.Hosting.Tls.TlsOptions Tls { get; set; } = new();

    public string WorkDir { get; set; } = Path.Combine(Environment.CurrentDirectory, ".mezzo", "master");

    public string Hostname { get; set; } = "127.0.0.1";

    public string Ip { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 5050;

    /// <summary>Cluster name shown in /state (Mesos --cluster).</summary>
    public string? Cluster { get; set; }

    public TimeSpan AllocationInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan AgentPingTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public int MaxAgentPingTimeouts { get; set; } = 5;

    /// <summary>Outstanding offers are rescinded after this long. Null = never (Mesos default).</summary>
    public TimeSpan? OfferTimeout { get; set; }

    /// <summary>Interval of HEARTBEAT events to subscribed schedulers (Mesos: 15 s).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the web UI's usage chart gets a sample of used vs total cpus, mem and disk.</summary>
    public TimeSpan UsageSampleInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back the usage samples reach (the chart's "last hour").</summary>
    public TimeSpan UsageHistory { get; set; } = TimeSpan.FromHours(1);

    public int MaxCompletedFrameworks { get; set; } = 50;

    public int MaxCompletedTasksPerFramework { get; set; } = 1000;

    /// <summary>
    /// Mesos's <c>--weights</c>, <c>role1=weight1,role2=weight2</c>. Only used while the registry holds no weights:
    /// the first start with it stores them, and from then on the registry (and UPDATE_WEIGHTS) is what counts.
    /// </summary>
    public string? Weights { get; set; }

    /// <summary>
    /// Mesos's <c>--min_allocatable_resources</c>: an offer must hold at least one of these quantity sets
    /// (<c>cpus:0.01|mem:32</c>, the default); smaller leftovers are kept back until they grow.
    /// </summary>
    public string MinAllocatableResources { get; set; } = "cpus:0.01|mem:32";

    /// <summary>Largest accepted request body; bigger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Where the registry lives: <c>sqlite</c> (a file under <see cref="WorkDir"/>, one master) or
    /// <c>etcd://host:2379[,host:2379...][/prefix]</c> (high availability: the masters elect a leader in etcd).
    /// </summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>
    /// TTL of the etcd lease that holds leadership: a dead leader is replaced after about this long. 4 s puts agents and
    /// frameworks back on a new leader within 5 s of a leader's death (bench/BENCHMARKS.md), with keep-alives every
    /// 1.3 s leaving room for a busy leader.
    /// </summary>
    public TimeSpan LeaderLeaseTtl { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Mesos's <c>--registry_max_agent_age</c>: an agent unreachable for longer than this is forgotten by the registry
    /// (reconciling its tasks then answers TASK_UNKNOWN). Gone agents are never forgotten, so they stay refused.
    /// </summary>
    public TimeSpan RegistryMaxAgentAge { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Mesos's <c>--registry_max_agent_count</c>: at most this many unreachable agents are remembered (oldest go first).</summary>
    public int RegistryMaxAgentCount { get; set; } = 100 * 1024;

    /// <summary>Mesos's <c>--registry_gc_interval</c>: how often the two limits above are applied.</summary>
    public TimeSpan RegistryGcInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Mesos's <c>--recovery_agent_removal_limit</c>, in percent: if more than this share of the agents the registry
    /// knew at start fail to re-register in time, something bigger than a few dead hosts is wrong, and the master marks
    /// none of them unreachable (Mesos exits instead) until enough are back or an operator steps in.
    /// </summary>
    public double RecoveryAgentRemovalLimitPercent { get; set; } = 100;

    /// <summary>
    /// Mesos's <c>--agent_reregister_timeout</c>: after a master (re)start, an agent the registry knows that has not
    /// re-registered within this long is marked unreachable (subject to the removal limit above). Mesos insists on at
    /// least 10 minutes because its agents back off that long; Mezzo's agents retry within seconds, so any positive
    /// value is accepted.
    /// </summary>
    public TimeSpan AgentReregisterTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Mesos's <c>--max_operator_event_stream_subscribers</c>: at most this many operator SUBSCRIBE streams are open;
    /// a new one beyond it closes the oldest (clients and proxies that never close their connection would otherwise
    /// pile up).
    /// </summary>
    public int MaxOperatorEventStreamSubscribers { get; set; } = 1000;

    /// <summary>--max-frameworks: registered frameworks (connected or within their failover timeout); a new one beyond
    /// it is refused with 503. Failover of a known framework is always accepted.</summary>
    public int MaxFrameworks { get; set; } = 1000;

    /// <summary>--max-tasks-per-framework: tasks of one framework (active, or terminal and not yet acknowledged); a launch
    /// beyond it is TASK_ERROR.</summary>
    public int MaxTasksPerFramework { get; set; } = 100_000;

    /// <summary>--max-outstanding-offers-per-framework: offers a framework may hold unanswered; beyond it the
    /// allocator offers it nothing more until it accepts, declines or the offers are rescinded.</summary>
    public int MaxOutstandingOffersPerFramework { get; set; } = 1000;

    /// <summary>
    /// Events queued for one operator SUBSCRIBE stream before it counts as too slow and is closed (it may subscribe
    /// again); the master never waits for a subscriber.
    /// </summary>
    public int OperatorEventQueueCapacity { get; set; } = 10_000;

    /// <summary>Header, connection and slow-client limits of the master's listener.</summary>
    public Hosting.Limits.ListenerLimitsOptions ListenerLimits { get; set; } = new();

    /// <summary>Per-client rate limit on the scheduler and operator APIs (<c>--rate-limit-qps</c>, <c>--rate-limit-burst</c>).</summary>
    public Hosting.Limits.ClientRateLimitOptions RateLimit { get; set; } = new();

    public TimeSpan AgentUnreachableAfter => AgentPingTimeout * MaxAgentPingTimeouts;
}

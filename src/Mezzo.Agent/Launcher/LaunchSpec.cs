namespace Mezzo.Agent.Launcher;

/// <summary>Everything needed to start one task process.</summary>
/// <param name="Executable">Absolute or relative path (relative to <paramref name="WorkingDirectory"/>), or a bare
/// name looked up in the PATH of <paramref name="Environment"/>.</param>
/// <param name="Arguments">argv[1..]; argv[0] is the executable as given.</param>
/// <param name="Environment">The complete environment of the child: nothing is inherited from the agent.</param>
/// <param name="WorkingDirectory">Must exist.</param>
/// <param name="StdoutPath">Opened for appending (created 0644 if missing).</param>
/// <param name="StderrPath">Opened for appending (created 0644 if missing).</param>
/// <param name="User">When set and different from the agent's user, the task runs as this user (requires root).</param>
/// <param name="CgroupProcs">cgroup.procs files the process joins before the executable runs (as the agent's user,
/// before any switch to <paramref name="User"/>); argv[0] is then the resolved executable path.</param>
/// <param name="Namespaces">When set, the process starts in new namespaces (see <see cref="NamespaceSpec"/>).</param>
/// <param name="Supervisor">When set, the process is started by a supervisor that outlives the agent (see
/// <see cref="Supervision"/>); the launched process is then the supervisor.</param>
public sealed record LaunchSpec(
    string Executable,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    string StdoutPath,
    string StderrPath,
    string? User = null,
    IReadOnlyList<string>? CgroupProcs = null,
    NamespaceSpec? Namespaces = null,
    Supervision? Supervisor = null);

/// <summary>
/// Run the task under <c>mezzo-supervisor</c> (src/Mezzo.Supervisor): the supervisor, not the agent, is the task's
/// parent, joins its cgroups, is the init of its pid namespace, and records its exit in <c>RunDir/exit</c>.
/// </summary>
/// <param name="Path">The mezzo-supervisor binary.</param>
/// <param name="RunDir">Must exist; the supervisor writes the exit record there.</param>
/// <param name="AgentFile">The agent's pid file; the supervisor ends the task once no agent has been alive for
/// <paramref name="RecoveryTimeout"/>.</param>
/// <param name="Rotation">Set: the supervisor gives the task pipes and copies them into the output files, rotating
/// them by size (the logrotate container logger); unset, the task writes the files itself.</param>
public sealed record Supervision(string Path, string RunDir, string AgentFile, TimeSpan RecoveryTimeout, LogRotation? Rotation = null);

/// <summary>Rotate a task's stdout and stderr past <paramref name="MaxSize"/> bytes, keeping <paramref name="MaxFiles"/> older files.</summary>
public sealed record LogRotation(long MaxSize, int MaxFiles);

/// <summary>
/// A new mount namespace (private propagation: nothing mounted inside reaches the host), optionally a new pid namespace
/// with a fresh /proc, and optionally a directory bind-mounted onto /tmp. All mounts are made before the task runs and
/// before any switch of user.
/// </summary>
/// <param name="Pid">A new pid namespace: the task sees only its own processes.</param>
/// <param name="PrivateTmp">Bind-mounted onto /tmp inside; must exist.</param>
/// <param name="Binds">Directories bind-mounted inside, after /tmp (a task group's SANDBOX_PATH volumes).</param>
public sealed record NamespaceSpec(bool Pid, string? PrivateTmp, IReadOnlyList<BindMount>? Binds = null);

/// <summary>A bind mount made in the task's mount namespace; the target directory is created if missing.</summary>
public sealed record BindMount(string Source, string Target, bool ReadOnly);

using System.Text.Json.Nodes;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Containers;

/// <summary>Everything the OCI config.json of one task container is made from.</summary>
public sealed record ContainerSpec
{
    public required string ContainerId { get; init; }

    public required ContainerImage Image { get; init; }

    public CommandInfo? Command { get; init; }

    public required ContainerInfo Container { get; init; }

    /// <summary>The task's environment as a command task would get it (TaskEnvironment.Build): host paths.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>Host path of the task's sandbox.</summary>
    public required string Sandbox { get; init; }

    /// <summary>
    /// OCI linux.cgroupsPath, relative to each hierarchy's root with a leading '/': the task's own cgroup as Mezzo's
    /// cgroups isolator made it (limits written), which runc joins, and makes in the hierarchies Mezzo does not use.
    /// </summary>
    public required string CgroupsPath { get; init; }

    /// <summary>RLIMIT_NOFILE (soft and hard) of the container's process.</summary>
    public long NoFileLimit { get; init; } = 1024;

    /// <summary>The hostname inside the container when ContainerInfo names none.</summary>
    public string DefaultHostname { get; init; } = "mezzo";
}

/// <summary>
/// Builds the OCI runtime config (opencontainers/runtime-spec <c>config.md</c>, <c>config-linux.md</c>) runc runs a
/// task container from: Mesos's command and environment rules, Docker's default capabilities, masked and read-only
/// paths, the sandbox at <see cref="SandboxMount"/>, and the task's volumes.
/// </summary>
public static class OciConfig
{
    /// <summary>Where the sandbox appears inside the container (Mesos's default --sandbox_directory).</summary>
    public const string SandboxMount = "/mnt/mesos/sandbox";

    // Docker's default capability set (moby oci/caps/defaults.go).
    private static readonly string[] DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    // Docker's defaults (moby oci/defaults.go): kernel interfaces a container must neither read nor change.
    private static readonly string[] MaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    private static readonly string[] ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    public static JsonObject Build(ContainerSpec spec, ContainerUser user)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(user);
        var network = ContainerSettings.Network(spec.Container);
        var args = ContainerCommand.Resolve(spec.Command, spec.Image);
        var caps = new JsonArray([.. DefaultCapabilities.Select(c => (JsonNode)c)]);
        var process = new JsonObject
        {
            ["terminal"] = false,
            ["user"] = new JsonObject
            {
                ["uid"] = user.Uid,
                ["gid"] = user.Gid,
                ["additionalGids"] = new JsonArray([.. user.AdditionalGids.Select(g => (JsonNode)g)]),
            },
            ["args"] = Strings(args),
            ["env"] = Strings(Environment(spec).Select(kv => $"{kv.Key}={kv.Value}")),
            ["cwd"] = WorkingDirectory(spec),
            ["capabilities"] = new JsonObject
            {
                ["bounding"] = caps.DeepClone(),
                ["effective"] = caps.DeepClone(),
                ["permitted"] = caps.DeepClone(),
            },
            ["rlimits"] = new JsonArray(new JsonObject { ["type"] = "RLIMIT_NOFILE", ["hard"] = spec.NoFileLimit, ["soft"] = spec.NoFileLimit }),
            ["noNewPrivileges"] = true,
        };

        var namespaces = new JsonArray(Namespace("pid"), Namespace("mount"), Namespace("ipc"), Namespace("uts"));
        if (network != ContainerNetwork.Host)
        {
            // A new network namespace without a path: runc brings up its loopback and nothing else.
            namespaces.Add(Namespace("network"));
        }

        // No cpu, memory or pids here: Mezzo's isolator already wrote them into the same cgroup (runc only writes the
        // values given), so image tasks and command tasks are limited by one piece of code. Devices: deny all; runc adds the standard allow list (null, zero, full, tty, random, ...).
        var resources = new JsonObject
        {
            ["devices"] = new JsonArray(new JsonObject { ["allow"] = false, ["access"] = "rwm" }),
        };

        return new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = process,
            ["root"] = new JsonObject { ["path"] = spec.Image.RootfsPath, ["readonly"] = false },
            ["hostname"] = string.IsNullOrEmpty(spec.Container.Hostname) ? spec.DefaultHostname : spec.Container.Hostname,
            ["mounts"] = Mounts(spec),
            ["linux"] = new JsonObject
            {
                ["namespaces"] = namespaces,
                ["cgroupsPath"] = spec.CgroupsPath,
                ["resources"] = resources,
                ["maskedPaths"] = Strings(MaskedPaths),
                ["readonlyPaths"] = Strings(ReadonlyPaths),
            },
        };
    }

    /// <summary>
    /// The image's Env, then the task's environment on top (Mesos: the containerizer's variables overwrite the
    /// image's), except that Mezzo's default PATH does not replace the image's PATH unless the task set PATH itself.
    /// MESOS_SANDBOX is the sandbox's path inside the container.
    /// </summary>
    public static SortedDictionary<string, string> Environment(ContainerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in spec.Image.Env ?? [])
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                env[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        var taskSetPath = spec.Command?.Environment?.Variables?.Any(v => v.Name == "PATH") == true;
        foreach (var (name, value) in spec.Environment)
        {
            if (name == "PATH" && env.ContainsKey("PATH") && !taskSetPath)
            {
                continue;
            }

            env[name] = value;
        }

        env["MESOS_SANDBOX"] = SandboxMount;
        return env;
    }

    /// <summary>
    /// The image's WorkingDir; without one, type MESOS starts in the sandbox (as Mesos's command executor does) and
    /// type DOCKER at "/" (as <c>docker run</c> does for Mesos's Docker containerizer).
    /// </summary>
    private static string WorkingDirectory(ContainerSpec spec) =>
        !string.IsNullOrEmpty(spec.Image.WorkingDir) ? spec.Image.WorkingDir
        : spec.Container.Type == ContainerInfoType.MESOS ? SandboxMount
        : "/";

    private static JsonArray Mounts(ContainerSpec spec)
    {
        var mounts = new JsonArray
        {
            Mount("/proc", "proc", "proc"),
            Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
            Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
            Mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
            Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
            Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
            Mount(SandboxMount, "bind", spec.Sandbox, "rbind", "rprivate", "rw"),
        };
        foreach (var volume in spec.Container.Volumes ?? [])
        {
            var (source, destination, readOnly) = Volume(volume, spec.Sandbox);
            mounts.Add(Mount(destination, "bind", source, "rbind", "rprivate", readOnly ? "ro" : "rw"));
        }

        return mounts;
    }

    /// <summary>
    /// One ContainerInfo volume as (host source, container destination, read-only), after apache/mesos
    /// <c>docs/container-volume.md</c>: HOST_PATH (source.host_path.path, or the legacy host_path) must be an absolute
    /// existing path; SANDBOX_PATH of type SELF is a path inside the sandbox (no "..", created when missing); a
    /// relative container_path is relative to the sandbox inside the container.
    /// </summary>
    public static (string Source, string Destination, bool ReadOnly) Volume(Volume volume, string sandbox)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var containerPath = volume.ContainerPath;
        if (string.IsNullOrEmpty(containerPath))
        {
            throw new ContainerLaunchException("Volume has no container_path");
        }

        if (HasDotDot(containerPath))
        {
            throw new ContainerLaunchException($"Volume container_path '{containerPath}' must not contain '..'");
        }

        var destination = containerPath.StartsWith('/') ? containerPath : $"{SandboxMount}/{containerPath}";
        var readOnly = volume.Mode == VolumeMode.RO;
        var sourceType = volume.Source?.Type ?? (volume.HostPath is not null ? VolumeSourceType.HOST_PATH : VolumeSourceType.UNKNOWN);
        string source;
        switch (sourceType)
        {
            case VolumeSourceType.HOST_PATH:
                var hostPath = volume.Source?.HostPath?.Path ?? volume.HostPath;
                if (string.IsNullOrEmpty(hostPath) || !hostPath.StartsWith('/'))
                {
                    throw new ContainerLaunchException($"HOST_PATH volume for '{containerPath}': host path '{hostPath}' must be absolute");
                }

                if (!File.Exists(hostPath) && !Directory.Exists(hostPath))
                {
                    throw new ContainerLaunchException($"HOST_PATH volume for '{containerPath}': host path '{hostPath}' does not exist");
                }

                source = hostPath;
                break;
            case VolumeSourceType.SANDBOX_PATH:
                var sandboxPath = volume.Source?.SandboxPath;
                if (sandboxPath?.Type is not (VolumeSourceSandboxPathType.SELF or null))
                {
                    throw new ContainerLaunchException($"SANDBOX_PATH volume for '{containerPath}': type {sandboxPath?.Type} is not supported (only SELF)");
                }

                var path = sandboxPath?.Path;
                if (string.IsNullOrEmpty(path) || path.StartsWith('/') || HasDotDot(path))
                {
                    throw new ContainerLaunchException($"SANDBOX_PATH volume for '{containerPath}': path '{path}' must be relative to the sandbox, without '..'");
                }

                source = Path.Combine(sandbox, path);
                if (!File.Exists(source))
                {
                    Directory.CreateDirectory(source);
                }

                break;
            default:
                throw new ContainerLaunchException($"Volume for '{containerPath}': source type {sourceType} is not supported (HOST_PATH or SANDBOX_PATH)");
        }

        return (source, destination, readOnly);
    }

    private static bool HasDotDot(string path) => path.Split('/').Contains("..", StringComparer.Ordinal);

    private static JsonObject Mount(string destination, string type, string source, params string[] options)
    {
        var mount = new JsonObject { ["destination"] = destination, ["type"] = type, ["source"] = source };
        if (options.Length > 0)
        {
            mount["options"] = Strings(options);
        }

        return mount;
    }

    private static JsonObject Namespace(string type) => new() { ["type"] = type };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);
}

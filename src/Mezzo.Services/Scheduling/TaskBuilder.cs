using System.Globalization;
using System.Text.RegularExpressions;
using Mezzo.Protocol.V1;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;

namespace Mezzo.Services.Scheduling;

/// <summary>Builds the Mesos TaskInfo for one task of an app, with the environment Marathon gives its tasks.</summary>
public static partial class TaskBuilder
{
    [GeneratedRegex("[^a-zA-Z0-9_]+")]
    private static partial Regex NotEnvironmentName();

    public static string NewTaskId(string appId) => $"{PathId.Safe(appId)}.instance-{Guid.NewGuid()}";

    public static TaskInfo Build(AppDefinition app, Offer offer, Match match, string taskId)
    {
        var command = new CommandInfo
        {
            Environment = new EnvironmentInfo { Variables = [.. Environment(app, offer.Hostname ?? "", match.HostPorts, taskId).Select(kv => new EnvironmentVariable { Name = kv.Key, Value = kv.Value })] },
            User = app.User,
            Uris = app.Fetch is { Count: > 0 } fetch
                ? [.. fetch.Select(f => new CommandInfoURI { Value = f.Uri, Executable = f.Executable, Extract = f.Extract, Cache = f.Cache, OutputFile = f.DestPath })]
                : null,
        };
        if (!string.IsNullOrEmpty(app.Cmd))
        {
            command.Shell = true;
            command.Value = app.Cmd;
        }
        else if (app.Args is { Count: > 0 } args)
        {
            command.Shell = false;
            command.Arguments = [.. args];
            // Without an image there is no entrypoint: the first argument is the program, as with Marathon's command executor.
            command.Value = app.Container is null ? args[0] : null;
        }
        else
        {
            command.Shell = false;
        }

        var task = new TaskInfo
        {
            Name = PathId.Safe(app.Id!),
            TaskId = new TaskID { Value = taskId },
            AgentId = offer.AgentId,
            Resources = [.. match.Resources],
            Command = command,
            Container = Container(app, match.HostPorts),
            HealthCheck = HealthCheck(app, match.HostPorts),
            Labels = app.Labels is { Count: > 0 } labels ? new Labels { Items = [.. labels.Select(l => new Label { Key = l.Key, Value = l.Value })] } : null,
        };
        if (app.TaskKillGracePeriodSeconds is { } grace)
        {
            task.KillPolicy = new KillPolicy { GracePeriod = new DurationInfo { Nanoseconds = grace * 1_000_000_000L } };
        }

        return task;
    }

    /// <summary>Marathon's task environment: the app's env, then PORT0.., PORT, PORTS, PORT_NAME, HOST and MARATHON_APP_*.</summary>
    public static Dictionary<string, string> Environment(AppDefinition app, string host, IReadOnlyList<int> hostPorts, string taskId)
    {
        var env = new Dictionary<string, string>(app.Env ?? []);
        for (var i = 0; i < hostPorts.Count; i++)
        {
            env[$"PORT{i}"] = hostPorts[i].ToString(CultureInfo.InvariantCulture);
            var name = app.Container?.PortMappings is { Count: > 0 } mappings ? mappings.ElementAtOrDefault(i)?.Name : app.PortDefinitions?.ElementAtOrDefault(i)?.Name;
            if (name is not null)
            {
                env[$"PORT_{NotEnvironmentName().Replace(name, "_").ToUpperInvariant()}"] = env[$"PORT{i}"];
            }
        }

        if (hostPorts.Count > 0)
        {
            env["PORT"] = hostPorts[0].ToString(CultureInfo.InvariantCulture);
            env["PORTS"] = string.Join(",", hostPorts.Select(p => p.ToString(CultureInfo.InvariantCulture)));
        }

        env["HOST"] = host;
        env["MESOS_TASK_ID"] = taskId;
        env["MARATHON_APP_ID"] = app.Id!;
        env["MARATHON_APP_VERSION"] = app.Version ?? "";
        if (app.Container?.Docker?.Image is { } image)
        {
            env["MARATHON_APP_DOCKER_IMAGE"] = image;
        }

        env["MARATHON_APP_RESOURCE_CPUS"] = (app.Cpus ?? 0).ToString("0.0###", CultureInfo.InvariantCulture);
        env["MARATHON_APP_RESOURCE_MEM"] = (app.Mem ?? 0).ToString("0.0###", CultureInfo.InvariantCulture);
        env["MARATHON_APP_RESOURCE_DISK"] = (app.Disk ?? 0).ToString("0.0###", CultureInfo.InvariantCulture);
        env["MARATHON_APP_RESOURCE_GPUS"] = (app.Gpus ?? 0).ToString(CultureInfo.InvariantCulture);
        // Marathon drops labels whose key or value would make an environment variable longer than 512 characters.
        var labels = (app.Labels ?? []).Where(l => l.Key.Length < 512 - "MARATHON_APP_LABEL_".Length && l.Value.Length < 512)
            .Select(l => (Key: NotEnvironmentName().Replace(l.Key, "_").ToUpperInvariant(), l.Value)).ToList();
        env["MARATHON_APP_LABELS"] = string.Join(" ", labels.Select(l => l.Key));
        foreach (var (key, value) in labels)
        {
            env["MARATHON_APP_LABEL_" + key] = value;
        }

        return env;
    }

    /// <summary>
    /// Docker's bridge networking: <c>networks: [{"mode": "container/bridge"}]</c>, or the older
    /// <c>container.docker.network: "BRIDGE"</c>.
    /// </summary>
    public static bool IsBridge(AppDefinition app) =>
        app.Container?.Docker?.Network == "BRIDGE"
        || (app.Networks ?? []).Any(n => n is System.Text.Json.Nodes.JsonObject network && network["mode"] is System.Text.Json.Nodes.JsonValue mode
            && mode.TryGetValue<string>(out var text) && text == "container/bridge");

    private static ContainerInfo? Container(AppDefinition app, IReadOnlyList<int> hostPorts)
    {
        if (app.Container?.Docker?.Image is not { Length: > 0 } image)
        {
            return null;
        }

        if (app.Container.Type == "DOCKER")
        {
            // Mezzo has no Docker daemon: the agent runs a DOCKER container's image with runc, and BRIDGE as a network
            // namespace of its own reached through its host ports.
            var bridge = IsBridge(app);
            var mappings = bridge ? app.Container.PortMappings ?? [] : [];
            return new ContainerInfo
            {
                Type = ContainerInfoType.DOCKER,
                Docker = new ContainerInfoDockerInfo
                {
                    Image = image,
                    Network = bridge ? ContainerInfoDockerInfoNetwork.BRIDGE : ContainerInfoDockerInfoNetwork.HOST,
                    ForcePullImage = app.Container.Docker.ForcePullImage == true,
                    PortMappings = mappings.Count == 0 ? null :
                    [
                        .. mappings.Select((m, i) => new ContainerInfoDockerInfoPortMapping
                        {
                            HostPort = (uint)hostPorts[i],
                            // Marathon: containerPort 0 means the same port as the host's.
                            ContainerPort = (uint)(m.ContainerPort is > 0 and var inside ? inside : hostPorts[i]),
                            Protocol = m.Protocol ?? "tcp",
                        }),
                    ],
                },
            };
        }

        // A MESOS container with a docker image: the Mesos (universal) containerizer's way of running one.
        return new ContainerInfo
        {
            Type = ContainerInfoType.MESOS,
            Mesos = new ContainerInfoMesosInfo
            {
                Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = image }, Cached = app.Container.Docker.ForcePullImage != true },
            },
        };
    }

    /// <summary>The app's Mesos health check (COMMAND, MESOS_*), run by the agent, which reports "healthy" in its status updates.</summary>
    public static HealthCheck? HealthCheck(AppDefinition app, IReadOnlyList<int> hostPorts)
    {
        // HTTP, HTTPS and TCP checks are Marathon-side (probed by the services process); the agent runs only the
        // app's one Mesos check.
        if (app.HealthChecks?.FirstOrDefault(c => !Health.HealthRules.IsMarathonSide(c)) is not { } check)
        {
            return null;
        }

        var health = new HealthCheck
        {
            DelaySeconds = check.DelaySeconds,
            IntervalSeconds = check.IntervalSeconds,
            TimeoutSeconds = check.TimeoutSeconds,
            ConsecutiveFailures = (uint?)check.MaxConsecutiveFailures,
            GracePeriodSeconds = check.GracePeriodSeconds,
        };
        // The host port also for a BRIDGE container: Mezzo's agent probes from the host's network, through the same
        // port forwarding clients use.
        var port = check.Port ?? (check.PortIndex is { } index && index < hostPorts.Count ? hostPorts[index] : 0);

        switch (check.Protocol)
        {
            case "COMMAND":
                health.Type = HealthCheckType.COMMAND;
                health.Command = new CommandInfo { Shell = true, Value = check.Command!.Value };
                break;
            case "MESOS_TCP":
                health.Type = HealthCheckType.TCP;
                health.Tcp = new HealthCheckTCPCheckInfo { Port = (uint)port };
                break;
            default:
                health.Type = HealthCheckType.HTTP;
                health.Http = new HealthCheckHTTPCheckInfo
                {
                    Port = (uint)port,
                    Path = check.Path,
                    Scheme = check.Protocol == "MESOS_HTTPS" ? "https" : "http",
                };
                break;
        }

        return health;
    }
}

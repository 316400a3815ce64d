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
            Container = Container(app),
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

    private static ContainerInfo? Container(AppDefinition app)
    {
        if (app.Container?.Docker?.Image is not { Length: > 0 } image)
        {
            return null;
        }

        // Mezzo has no Docker daemon: DOCKER apps run their image under the Mesos (universal) containerizer, as Mesos does
        // for container.type MESOS with a docker image.
        return new ContainerInfo
        {
            Type = ContainerInfoType.MESOS,
            Mesos = new ContainerInfoMesosInfo
            {
                Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = image }, Cached = app.Container.Docker.ForcePullImage != true },
            },
        };
    }

    /// <summary>The app's health check as a Mesos one, run by the agent, which reports "healthy" in its status updates.</summary>
    public static HealthCheck? HealthCheck(AppDefinition app, IReadOnlyList<int> hostPorts)
    {
        if (app.HealthChecks is not { Count: > 0 } checks)
        {
            return null;
        }

        var check = checks[0];
        var health = new HealthCheck
        {
            DelaySeconds = check.DelaySeconds,
            IntervalSeconds = check.IntervalSeconds,
            TimeoutSeconds = check.TimeoutSeconds,
            ConsecutiveFailures = (uint?)check.MaxConsecutiveFailures,
            GracePeriodSeconds = check.GracePeriodSeconds,
        };
        var port = check.Port ?? (check.PortIndex is { } index && index < hostPorts.Count ? hostPorts[index] : 0);
        switch (check.Protocol)
        {
            case "COMMAND":
                health.Type = HealthCheckType.COMMAND;
                health.Command = new CommandInfo { Shell = true, Value = check.Command!.Value };
                break;
            case "TCP" or "MESOS_TCP":
                health.Type = HealthCheckType.TCP;
                health.Tcp = new HealthCheckTCPCheckInfo { Port = (uint)port };
                break;
            default:
                health.Type = HealthCheckType.HTTP;
                health.Http = new HealthCheckHTTPCheckInfo
                {
                    Port = (uint)port,
                    Path = check.Path,
                    Scheme = check.Protocol is "HTTPS" or "MESOS_HTTPS" ? "https" : "http",
                };
                break;
        }

        return health;
    }
}

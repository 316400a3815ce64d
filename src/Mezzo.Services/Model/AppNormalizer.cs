using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Mezzo.Protocol.Marathon;

namespace Mezzo.Services.Model;

/// <summary>Marathon's defaults and validation for an app definition as sent.</summary>
public static class AppNormalizer
{
    public const double DefaultCpus = 1;
    public const double DefaultMem = 128;
    public const int DefaultBackoffSeconds = 1;
    public const double DefaultBackoffFactor = 1.15;
    public const int DefaultMaxLaunchDelaySeconds = 3600;
    public static readonly string[] ConstraintOperators = ["UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"];
    public static readonly string[] HealthProtocols = ["HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_TCP", "MESOS_HTTP", "MESOS_HTTPS"];
    private static readonly string[] KillSelections = ["YOUNGEST_FIRST", "OLDEST_FIRST"];

    /// <summary>Fills every default Marathon shows in GET (on <paramref name="app"/> itself, which must be a fresh parse).</summary>
    public static AppDefinition Normalize(AppDefinition app)
    {
        app.Id = PathId.Canonical(app.Id ?? "");
        app.Instances ??= 1;
        app.Cpus ??= DefaultCpus;
        app.Mem ??= DefaultMem;
        app.Disk ??= 0;
        app.Gpus ??= 0;
        app.Executor ??= "";
        app.Constraints ??= [];
        app.Env ??= [];
        app.Labels ??= [];
        app.Dependencies = [.. (app.Dependencies ?? []).Select(d => PathId.Canonical(d, PathId.Parent(app.Id)))];
        app.HealthChecks ??= [];
        app.ReadinessChecks ??= [];
        app.BackoffSeconds ??= DefaultBackoffSeconds;
        app.BackoffFactor ??= DefaultBackoffFactor;
        app.MaxLaunchDelaySeconds ??= DefaultMaxLaunchDelaySeconds;
        app.RequirePorts ??= false;
        app.UpgradeStrategy ??= new UpgradeStrategy();
        app.UpgradeStrategy.MinimumHealthCapacity ??= 1;
        app.UpgradeStrategy.MaximumOverCapacity ??= 1;
        app.KillSelection ??= "YOUNGEST_FIRST";
        app.UnreachableStrategy ??= new JsonObject { ["inactiveAfterSeconds"] = 300, ["expungeAfterSeconds"] = 600 };
        app.Role ??= "*";

        // Marathon folds the deprecated "uris" into "fetch".
        app.Fetch ??= [];
        if (app.Uris is { Count: > 0 } uris)
        {
            app.Fetch.AddRange(uris.Select(u => new FetchUri { Uri = u }));
        }

        app.Uris = null;
        foreach (var fetch in app.Fetch)
        {
            fetch.Extract ??= true;
            fetch.Executable ??= false;
            fetch.Cache ??= false;
        }

        if (app.Container is { } container)
        {
            container.Type ??= "MESOS";
            // Older clients put portMappings under docker; Marathon moved them to the container.
            if (container.Docker?.PortMappings is { } dockerMappings && container.PortMappings is null)
            {
                container.PortMappings = dockerMappings;
                container.Docker.PortMappings = null;
            }

            container.Volumes ??= [];
            if (container.Docker is { } docker)
            {
                docker.ForcePullImage ??= false;
                docker.Privileged ??= false;
                docker.Parameters ??= [];
            }

            foreach (var mapping in container.PortMappings ?? [])
            {
                mapping.ContainerPort ??= 0;
                mapping.HostPort ??= 0;
                mapping.ServicePort ??= 0;
                mapping.Protocol ??= "tcp";
            }
        }

        if (app.PortDefinitions is null)
        {
            app.PortDefinitions = app.Ports is { } ports
                ? [.. ports.Select(p => new PortDefinition { Port = p })]
                : app.Container?.PortMappings is { Count: > 0 } ? [] : [new PortDefinition { Port = 0 }];
        }

        app.Ports = null;
        foreach (var port in app.PortDefinitions)
        {
            port.Port ??= 0;
            port.Protocol ??= "tcp";
            port.Labels ??= [];
        }

        foreach (var check in app.ReadinessChecks)
        {
            check.Name ??= "readinessCheck";
            check.Protocol ??= "HTTP";
            check.Path ??= "/";
            check.PortName ??= "http-api";
            check.IntervalSeconds ??= 30;
            check.TimeoutSeconds ??= 10;
            check.HttpStatusCodesForReady ??= [200];
            check.PreserveLastResponse ??= false;
        }

        foreach (var check in app.HealthChecks)
        {
            check.Protocol ??= "HTTP";
            check.GracePeriodSeconds ??= 300;
            check.IntervalSeconds ??= 60;
            check.TimeoutSeconds ??= 20;
            check.MaxConsecutiveFailures ??= 3;
            check.DelaySeconds ??= 15;
            if (check.Protocol is "HTTP" or "HTTPS" or "MESOS_HTTP" or "MESOS_HTTPS")
            {
                check.Path ??= "/";
                check.IgnoreHttp1xx ??= false;
            }

            if (check.Protocol != "COMMAND" && check.Port is null)
            {
                check.PortIndex ??= 0;
            }
        }

        return app;
    }

    /// <summary>Marathon's validation of a normalized app; empty when valid.</summary>
    public static List<ValidationError> Validate(AppDefinition app, string rawId)
    {
        var errors = new List<ValidationError>();
        void Check(bool ok, string path, string error)
        {
            if (!ok)
            {
                errors.Add(new ValidationError(path, error));
            }
        }

        if (string.IsNullOrEmpty(rawId))
        {
            errors.Add(new ValidationError("/id", "error.path.missing"));
        }
        else
        {
            errors.AddRange(PathId.Errors(rawId).Select(e => new ValidationError("/id", e)));
        }

        var cmd = !string.IsNullOrEmpty(app.Cmd);
        var args = app.Args is { Count: > 0 };
        var container = app.Container is not null;
        Check((cmd ^ args) || (!(cmd && args) && container), "/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");
        Check(app.Instances >= 0, "/instances", $"got {app.Instances}, expected 0 or more");
        Check(app.Cpus >= 0.001 && double.IsFinite(app.Cpus!.Value), "/cpus", $"got {Number(app.Cpus)}, expected 0.001 or more");
        Check(app.Mem >= 0 && double.IsFinite(app.Mem!.Value), "/mem", $"got {Number(app.Mem)}, expected 0.0 or more");
        Check(app.Disk >= 0 && double.IsFinite(app.Disk!.Value), "/disk", $"got {Number(app.Disk)}, expected 0.0 or more");
        Check(app.Gpus >= 0, "/gpus", $"got {app.Gpus}, expected 0 or more");
        Check(app.BackoffSeconds >= 0, "/backoffSeconds", $"got {app.BackoffSeconds}, expected 0 or more");
        Check(app.BackoffFactor >= 1.0, "/backoffFactor", $"got {Number(app.BackoffFactor)}, expected 1.0 or more");
        Check(app.MaxLaunchDelaySeconds >= 0, "/maxLaunchDelaySeconds", $"got {app.MaxLaunchDelaySeconds}, expected 0 or more");
        Check(app.TaskKillGracePeriodSeconds is null or >= 0, "/taskKillGracePeriodSeconds", $"got {app.TaskKillGracePeriodSeconds}, expected 0 or more");
        var minimumHealth = app.UpgradeStrategy!.MinimumHealthCapacity!.Value;
        var maximumOver = app.UpgradeStrategy.MaximumOverCapacity!.Value;
        Check(minimumHealth is >= 0 and <= 1, "/upgradeStrategy/minimumHealthCapacity", $"got {Number(minimumHealth)}, expected between 0.0 and 1.0");
        Check(maximumOver is >= 0 and <= 1, "/upgradeStrategy/maximumOverCapacity", $"got {Number(maximumOver)}, expected between 0.0 and 1.0");
        Check(KillSelections.Contains(app.KillSelection), "/killSelection", $"'{app.KillSelection}' is not one of {string.Join(", ", KillSelections)}");
        Check(!string.IsNullOrWhiteSpace(app.Role) && !app.Role.Contains('/', StringComparison.Ordinal) && app.Role is not ("." or ".."), "/role", $"'{app.Role}' is not a valid role");

        for (var i = 0; i < app.Constraints!.Count; i++)
        {
            var constraint = app.Constraints[i];
            var path = $"/constraints({i})";
            if (constraint.Count is < 2 or > 3 || string.IsNullOrEmpty(constraint[0]))
            {
                errors.Add(new ValidationError(path, "Each constraint must have either 2 or 3 fields"));
                continue;
            }

            var op = constraint[1];
            if (!ConstraintOperators.Contains(op))
            {
                errors.Add(new ValidationError(path, $"Constraint operator must be one of the following: [{string.Join(", ", ConstraintOperators)}]"));
                continue;
            }

            var value = constraint.Count == 3 ? constraint[2] : null;
            switch (op)
            {
                case "UNIQUE":
                    Check(value is null, path, "Value specified but not used");
                    break;
                case "CLUSTER" or "IS":
                    Check(!string.IsNullOrEmpty(value), path, "Missing value");
                    break;
                case "GROUP_BY":
                    Check(value is null || int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _), path, "Value was specified but is not a number");
                    break;
                case "MAX_PER":
                    Check(value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _), path, "Value was specified but is not a number");
                    break;
                case "LIKE" or "UNLIKE":
                    Check(value is not null && IsRegex(value), path, value is null ? "A regular expression value must be provided" : $"'{value}' is not a valid regular expression");
                    break;
            }
        }

        var portCount = app.Container?.PortMappings is { Count: > 0 } mappings ? mappings.Count : app.PortDefinitions!.Count;
        for (var i = 0; i < app.PortDefinitions!.Count; i++)
        {
            var port = app.PortDefinitions[i];
            Check(port.Port is >= 0 and <= 65535, $"/portDefinitions({i})/port", $"got {port.Port}, expected between 0 and 65535");
            Check(port.Protocol is "tcp" or "udp" or "udp,tcp" or "tcp,udp", $"/portDefinitions({i})/protocol", $"'{port.Protocol}' is not one of tcp, udp, udp,tcp");
            Check(port.Name is null || Regex.IsMatch(port.Name, "^[a-z0-9-]+$"), $"/portDefinitions({i})/name", $"must fully match regular expression '^[a-z0-9-]+$'");
        }

        var names = app.PortDefinitions.Where(p => p.Name is not null).Select(p => p.Name).ToList();
        Check(names.Count == names.Distinct().Count(), "/portDefinitions", "Port names must be unique.");
        var fixedPorts = app.PortDefinitions.Where(p => p.Port != 0).Select(p => p.Port).ToList();
        Check(fixedPorts.Count == fixedPorts.Distinct().Count(), "/portDefinitions", "Ports must be unique.");

        if (app.Container is { } c)
        {
            Check(c.Type is "MESOS" or "DOCKER", "/container/type", $"'{c.Type}' is not one of MESOS, DOCKER");
            Check(c.Type != "DOCKER" || !string.IsNullOrWhiteSpace(c.Docker?.Image), "/container/docker/image", "must not be empty");
            for (var i = 0; i < (c.PortMappings?.Count ?? 0); i++)
            {
                var m = c.PortMappings![i];
                Check(m.ContainerPort is >= 0 and <= 65535, $"/container/portMappings({i})/containerPort", $"got {m.ContainerPort}, expected between 0 and 65535");
                Check(m.HostPort is >= 0 and <= 65535, $"/container/portMappings({i})/hostPort", $"got {m.HostPort}, expected between 0 and 65535");
            }
        }

        // Marathon's rule: any number of Marathon-side checks, at most one the agent runs (a TaskInfo carries one).
        Check(app.HealthChecks!.Count(c => !Health.HealthRules.IsMarathonSide(c)) <= 1, "/", "AppDefinition can contain at most one Mesos health check");
        for (var i = 0; i < app.HealthChecks!.Count; i++)
        {
            var check = app.HealthChecks[i];
            var path = $"/healthChecks({i})";
            if (!HealthProtocols.Contains(check.Protocol))
            {
                errors.Add(new ValidationError(path + "/protocol", $"'{check.Protocol}' is not one of {string.Join(", ", HealthProtocols)}"));
                continue;
            }

            Check(check.Protocol != "COMMAND" || !string.IsNullOrEmpty(check.Command?.Value), path + "/command", "A command health check needs command.value");
            Check(check.Protocol == "COMMAND" || check.Port is not null || (check.PortIndex >= 0 && check.PortIndex < portCount), path,
                "Health check port indices must address an element of the ports array or container port mappings.");
            Check(check.GracePeriodSeconds >= 0, path + "/gracePeriodSeconds", $"got {check.GracePeriodSeconds}, expected 0 or more");
            Check(check.IntervalSeconds >= 0, path + "/intervalSeconds", $"got {check.IntervalSeconds}, expected 0 or more");
            Check(check.TimeoutSeconds >= 0, path + "/timeoutSeconds", $"got {check.TimeoutSeconds}, expected 0 or more");
            Check(check.MaxConsecutiveFailures >= 0, path + "/maxConsecutiveFailures", $"got {check.MaxConsecutiveFailures}, expected 0 or more");
            Check(check.DelaySeconds >= 0, path + "/delaySeconds", $"got {check.DelaySeconds}, expected 0 or more");
            Check(check.Path?.StartsWith('/') != false, path + "/path", $"'{check.Path}' must start with '/'");
            Check(check.Port is null or (>= 1 and <= 65535), path + "/port", $"got {check.Port}, expected between 1 and 65535");
        }

        var portNames = app.Container?.PortMappings is { Count: > 0 } named ? named.Select(m => m.Name) : app.PortDefinitions.Select(p => p.Name);
        for (var i = 0; i < app.ReadinessChecks!.Count; i++)
        {
            var check = app.ReadinessChecks[i];
            var path = $"/readinessChecks({i})";
            Check(check.Protocol is "HTTP" or "HTTPS", path + "/protocol", $"'{check.Protocol}' is not one of HTTP, HTTPS");
            Check(portNames.Contains(check.PortName), path + "/portName", $"'{check.PortName}' is not the name of one of the app's ports");
            Check(check.IntervalSeconds >= 0, path + "/intervalSeconds", $"got {check.IntervalSeconds}, expected 0 or more");
            Check(check.TimeoutSeconds >= 0 && check.TimeoutSeconds < Math.Max(1, check.IntervalSeconds ?? 0), path + "/timeoutSeconds", "must be smaller than intervalSeconds");
            Check(check.HttpStatusCodesForReady!.Count > 0 && check.HttpStatusCodesForReady.All(c => c is >= 100 and <= 999), path + "/httpStatusCodesForReady", "must list HTTP status codes (100 to 999)");
        }

        foreach (var (key, _) in app.Env!)
        {
            Check(key.Length > 0 && !key.Contains('='), "/env", $"'{key}' is not a valid environment variable name");
        }

        for (var i = 0; i < app.Dependencies!.Count; i++)
        {
            Check(app.Dependencies[i] != app.Id, $"/dependencies({i})", "An app cannot depend on itself");
        }

        for (var i = 0; i < app.Fetch!.Count; i++)
        {
            Check(!string.IsNullOrWhiteSpace(app.Fetch[i].Uri), $"/fetch({i})/uri", "must not be empty");
        }

        switch (app.UnreachableStrategy)
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                Check(text == "disabled", "/unreachableStrategy", $"'{text}' is not 'disabled' or an object");
                break;
            case JsonObject strategy:
                var inactive = NumberOf(strategy["inactiveAfterSeconds"]) ?? 300;
                var expunge = NumberOf(strategy["expungeAfterSeconds"]) ?? 600;
                Check(strategy["inactiveAfterSeconds"] is null || NumberOf(strategy["inactiveAfterSeconds"]) is not null, "/unreachableStrategy/inactiveAfterSeconds", "error.expected.jsnumber");
                Check(strategy["expungeAfterSeconds"] is null || NumberOf(strategy["expungeAfterSeconds"]) is not null, "/unreachableStrategy/expungeAfterSeconds", "error.expected.jsnumber");
                strategy["inactiveAfterSeconds"] ??= 300;
                strategy["expungeAfterSeconds"] ??= 600;
                Check(inactive >= 1, "/unreachableStrategy/inactiveAfterSeconds", $"got {Number(inactive)}, expected 1 or more");
                Check(expunge >= 1, "/unreachableStrategy/expungeAfterSeconds", $"got {Number(expunge)}, expected 1 or more");
                Check(inactive < expunge, "/unreachableStrategy", "inactiveAfterSeconds must be less than expungeAfterSeconds");
                break;
            default:
                errors.Add(new ValidationError("/unreachableStrategy", "must be 'disabled' or an object"));
                break;
        }

        return errors;
    }

    private static double? NumberOf(JsonNode? node) =>
        node?.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : null;

    private static bool IsRegex(string value)
    {
        try
        {
            _ = new Regex(value, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Number(double? value) => value?.ToString("0.0##", CultureInfo.InvariantCulture) ?? "null";
}

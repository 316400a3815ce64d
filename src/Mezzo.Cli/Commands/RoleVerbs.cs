using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;
using static Mezzo.Cli.Client.ClientVerb;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>mezzo role list</c> (the master's <c>/roles</c>: weight, quota and consumption per role) and
/// <c>mezzo quota set|list|remove</c> (operator API GET_QUOTA, UPDATE_QUOTA, REMOVE_QUOTA).
/// </summary>
public static class RoleVerbs
{
    private static readonly string[] QuotaResources = ["cpus", "mem", "disk"];

    public static Command CreateRole()
    {
        var master = MasterOption();
        master.Recursive = true;
        var json = JsonOption();
        json.Recursive = true;
        var list = new Command("list", "List roles: weight, frameworks, allocated resources, quota guarantee/limit and consumption");
        SetMasterAction(list, master, async (parsed, api, token) =>
        {
            var roles = await api.Http.GetJsonAsync("master/roles", token);
            if (parsed.GetValue(json))
            {
                Output.Json(roles);
                return ExitCodes.Ok;
            }

            Output.Table(["ROLE", "WEIGHT", "FRAMEWORKS", "CPUS", "MEM", "DISK", "QUOTA GUARANTEE", "QUOTA LIMIT"], Items(roles?["roles"]).Select(r => (IReadOnlyList<string>)
            [
                Text(r["name"]), Output.Number(r["weight"]?.GetValue<double>() ?? 1), Items(r["frameworks"]).Count().ToString(CultureInfo.InvariantCulture),
                Amount(r["allocated"], "cpus"), Amount(r["allocated"], "mem"), Amount(r["allocated"], "disk"),
                Quantities(r["quota"]?["guarantee"]), Quantities(r["quota"]?["limit"]),
            ]));
            return ExitCodes.Ok;
        });
        return new Command("role", "Roles known to the master: list") { master, json, list };
    }

    public static Command CreateQuota()
    {
        var master = MasterOption();
        master.Recursive = true;
        var json = JsonOption();
        json.Recursive = true;
        var role = new Argument<string>("role") { Description = "The role, e.g. dev or eng/backend" };

        var list = new Command("list", "List quotas: guarantee and limit per role");
        SetMasterAction(list, master, async (parsed, api, token) =>
        {
            var status = (await api.CallAsync(MasterApi.Call("GET_QUOTA"), token))["get_quota"]?["status"];
            var configs = Items(status?["configs"]).ToList();
            if (parsed.GetValue(json))
            {
                Output.Json(new JsonArray([.. configs.Select(c => c.DeepClone())]));
                return ExitCodes.Ok;
            }

            Output.Table(["ROLE", "GUARANTEE", "LIMIT"], configs.Select(c => (IReadOnlyList<string>)
                [Text(c["role"]), Quantities(c["guarantees"], nested: true), Quantities(c["limits"], nested: true)]));
            return ExitCodes.Ok;
        });

        var amounts = QuotaResources.Select(name => new Option<double?>("--" + name)
        {
            Description = name switch { "cpus" => "CPUs", "mem" => "Memory in MB", _ => "Disk in MB" },
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && double.IsFinite(value))
                {
                    return value;
                }

                result.AddError($"--{name} must be a non-negative number, not '{text}'");
                return null;
            },
        }).ToList();

        var limitsOnly = new Option<bool>("--limits-only") { Description = "Set only limits (a cap), not guarantees" };
        var force = new Option<bool>("--force") { Description = "Set a guarantee larger than the cluster (or a limit below what the role uses)" };
        var set = new Command("set", "Set a role's quota: --cpus/--mem/--disk are both guaranteed and the limit (UPDATE_QUOTA); unnamed resources are unconstrained") { role, limitsOnly, force };
        foreach (var option in amounts)
        {
            set.Options.Add(option);
        }

        set.Validators.Add(result =>
        {
            if (amounts.All(option => result.GetResult(option) is null))
            {
                result.AddError("quota set: give at least one of --cpus, --mem, --disk");
            }
        });
        SetMasterAction(set, master, async (parsed, api, token) =>
        {
            var name = parsed.GetValue(role)!;
            var values = new JsonObject();
            foreach (var option in amounts)
            {
                if (parsed.GetValue(option) is { } value)
                {
                    values[option.Name.TrimStart('-')] = new JsonObject { ["value"] = value };
                }
            }

            var config = new JsonObject
            {
                ["role"] = name,
                ["guarantees"] = parsed.GetValue(limitsOnly) ? new JsonObject() : values.DeepClone(),
                ["limits"] = values,
            };
            await api.CallAsync(MasterApi.Call("UPDATE_QUOTA", "update_quota", new JsonObject { ["force"] = parsed.GetValue(force), ["quota_configs"] = new JsonArray(config) }), token);
            Confirm(parsed.GetValue(json), config, $"Quota of role '{name}' set");
            return ExitCodes.Ok;
        });

        var remove = new Command("remove", "Remove a role's quota") { role };
        SetMasterAction(remove, master, async (parsed, api, token) =>
        {
            var name = parsed.GetValue(role)!;
            await api.CallAsync(MasterApi.Call("REMOVE_QUOTA", "remove_quota", new JsonObject { ["role"] = name }), token);
            Confirm(parsed.GetValue(json), new JsonObject { ["role"] = name, ["removed"] = true }, $"Quota of role '{name}' removed");
            return ExitCodes.Ok;
        });

        return new Command("quota", "Quota per role: set, list, remove") { master, json, list, set, remove };
    }

    private static void Confirm(bool json, JsonNode result, string message)
    {
        if (json)
        {
            Output.Json(result);
        }
        else
        {
            Output.Line(message);
        }
    }

    private static string Amount(JsonNode? quantities, string name) => Output.Number(quantities?[name]?.GetValue<double>() ?? 0);

    /// <summary>"cpus:2;mem:1024" from <c>{"cpus": 2}</c> (/roles) or <c>{"cpus": {"value": 2}}</c> (QuotaConfig).</summary>
    private static string Quantities(JsonNode? quantities, bool nested = false) =>
        quantities is JsonObject map && map.Count > 0
            ? string.Join(";", map.Select(kv => $"{kv.Key}:{Output.Number((nested ? kv.Value?["value"] : kv.Value)?.GetValue<double>() ?? 0)}"))
            : "-";
}

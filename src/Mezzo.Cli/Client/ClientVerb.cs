using System.CommandLine;
using System.Text.Json.Nodes;
using Mezzo.Cli.Flags;

namespace Mezzo.Cli.Client;

/// <summary>The options and error handling every client verb shares.</summary>
public static class ClientVerb
{
    public static Option<string?> MasterOption() => new("--master")
    {
        Description = $"The master, http://host:5050 or host:5050 (several comma-separated are tried in order; a standby redirects to the leader) [env: MEZZO_MASTER; config file key: master; default: {MasterApi.DefaultMaster}]",
        HelpName = "url",
    };

    public static Option<bool> JsonOption() => new("--json")
    {
        Description = "Print JSON for scripts (the master's own objects, snake_case) instead of a table; nothing else goes to stdout",
    };

    /// <summary>A duration flag in Mesos's syntax (15secs, 500ms, 2mins) without an environment default.</summary>
    public static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description + " (e.g. 30secs, 500ms, 2mins)",
        HelpName = "duration",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DurationText.TryParse(text, out var value) && value >= TimeSpan.Zero)
            {
                return value;
            }

            result.AddError($"{name}: invalid duration '{text}': expected a number and a unit (ms, secs, mins, hrs)");
            return null;
        },
    };

    /// <summary>
    /// Runs a verb against the master, turning its failures into a stderr line and the documented exit code. Adds
    /// <c>--principal</c>/<c>--secret-file</c> to the verb (every call logs in when a credential is configured) and
    /// <c>--tls-ca</c> (the trust for an https:// master).
    /// </summary>
    public static void SetMasterAction(Command command, Option<string?> master, Func<ParseResult, MasterApi, CancellationToken, Task<int>> action)
    {
        var credential = ClientCredentials.AddTo(command);
        var tlsCa = ClientTls.Option();
        command.Options.Add(tlsCa);
        command.SetAction((parsed, token) => RunAsync(async () =>
        {
            using var api = MasterApi.Create(parsed.GetValue(master), credential(parsed), parsed.GetValue(tlsCa));
            return await action(parsed, api, token);
        }));
    }

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return ex.ExitCode;
        }
    }

    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    /// <summary>The <c>{"value": ...}</c> of a Mesos id (AgentID, FrameworkID, TaskID).</summary>
    public static string Id(JsonNode? id) => Text(id?["value"]);

    /// <summary>The sum of a scalar resource in a Mesos <c>Resource</c> list (all roles and reservations).</summary>
    public static double Scalar(JsonNode? resources, string name) =>
        resources is JsonArray list
            ? list.Where(r => Text(r?["name"]) == name).Sum(r => r?["scalar"]?["value"]?.GetValue<double>() ?? 0)
            : 0;

    public static IEnumerable<JsonNode> Items(JsonNode? array) => array is JsonArray list ? list.OfType<JsonNode>() : [];
}

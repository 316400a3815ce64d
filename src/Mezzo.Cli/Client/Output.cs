using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Mezzo.Cli.Client;

/// <summary>
/// How client verbs print: Spectre.Console tables for people; for a pipe, the same columns without borders, colour or
/// wrapping (so <c>grep</c> and <c>awk</c> see one row per line); <c>--json</c> writes only JSON to stdout. Messages
/// and progress go to stderr, so they never mix into what a script reads.
/// </summary>
public static class Output
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static bool Piped { get; } = Console.IsOutputRedirected;

    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);

    public static IAnsiConsole Err { get; } = Create(Console.Error, Console.IsErrorRedirected);

    /// <summary>Whether progress can be animated in place (a terminal on stderr), or must be printed as lines.</summary>
    public static bool ErrInteractive { get; } = !Console.IsErrorRedirected;

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            // Spectre assumes 80 columns without a terminal and would wrap cells; a pipe wants whole rows.
            console.Profile.Width = 4096;
        }

        return console;
    }

    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = new Table { Border = Piped ? TableBorder.None : TableBorder.Rounded };
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))) { NoWrap = Piped });
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
        }

        Out.Write(table);
    }

    /// <summary>A <c>show</c> verb's fields, one "NAME  value" line each.</summary>
    public static void Fields(IEnumerable<(string Name, string Value)> fields)
    {
        var grid = new Grid();
        grid.AddColumn(new GridColumn { NoWrap = true });
        grid.AddColumn(new GridColumn { NoWrap = Piped });
        foreach (var (name, value) in fields)
        {
            grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
        }

        Out.Write(grid);
    }

    public static void Heading(string text) => Out.Write(new Text("\n" + text + "\n", new Style(decoration: Decoration.Bold)));

    public static void Json(JsonNode? node) => Console.Out.WriteLine(node?.ToJsonString(Indented) ?? "null");

    public static void Line(string text) => Console.Out.WriteLine(text);

    /// <summary>A message for people (stderr), e.g. what a change did; stdout stays for data.</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}

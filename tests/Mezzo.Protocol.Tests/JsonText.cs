namespace Mezzo.Protocol.Tests;

internal static class JsonText
{
    /// <summary>Joins the lines of an expected JSON text written across several lines (no line break may fall inside a string).</summary>
    public static string Compact(string lines) => lines.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
}

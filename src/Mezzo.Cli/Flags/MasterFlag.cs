using Mezzo.Framework.Detection;

namespace Mezzo.Cli.Flags;

/// <summary>Validates <c>--master</c> at parse time, before an agent or a framework has created anything.</summary>
public static class MasterFlag
{
    public static string? Check(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "--master is required (e.g. --master 127.0.0.1:5050)";
        }

        try
        {
            using var detector = MasterDetector.Create(value, Mezzo.Agent.Link.MasterAddress.Parse);
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or UriFormatException)
        {
            return $"--master: {ex.Message}";
        }
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;

namespace Mezzo.Cli.Flags;

/// <summary>
/// Builds options the Mesos way: <c>--work-dir</c> is also accepted as <c>--work_dir</c>, and its default can come
/// from <c>MEZZO_WORK_DIR</c> in the environment, so existing Mesos configurations carry over.
/// </summary>
public static class FlagOption
{
    public static Option<T> Create<T>(string name, string description, Func<T> fallback, Func<string, T>? parseEnvironment = null)
    {
        var option = new Option<T>("--" + name) { Description = description };
        var underscored = "--" + name.Replace('-', '_');
        if (underscored != option.Name)
        {
            option.Aliases.Add(underscored);
        }

        var variable = EnvironmentVariable(name);
        option.DefaultValueFactory = result =>
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(fromEnvironment))
            {
                return fallback();
            }

            try
            {
                return parseEnvironment is not null ? parseEnvironment(fromEnvironment) : (T)Convert.ChangeType(fromEnvironment, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException or ArgumentException)
            {
                result.AddError($"Invalid value '{fromEnvironment}' in {variable}: {ex.Message}");
                return fallback();
            }
        };
        option.Description += $" [env: {variable}]";
        return option;
    }

    public static Option<TimeSpan> Duration(string name, string description, TimeSpan fallback)
    {
        var option = new Option<TimeSpan>("--" + name)
        {
            Description = description + $" (e.g. 15secs, 50ms, 2mins) [env: {EnvironmentVariable(name)}]",
            CustomParser = result => ParseDuration(result, result.Tokens.Count > 0 ? result.Tokens[0].Value : null, fallback),
            DefaultValueFactory = result => ParseDuration(result, Environment.GetEnvironmentVariable(EnvironmentVariable(name)), fallback),
        };
        var underscored = "--" + name.Replace('-', '_');
        if (underscored != option.Name)
        {
            option.Aliases.Add(underscored);
        }

        return option;
    }

    private static TimeSpan ParseDuration(ArgumentResult result, string? text, TimeSpan fallback)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (DurationText.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"Invalid duration '{text}': expected a number and a unit (ns, us, ms, secs, mins, hrs, days, weeks)");
        return fallback;
    }

    /// <summary>
    /// Validates the option's value wherever it came from (command line, <c>MEZZO_*</c> environment or default).
    /// Command-level validators cannot do this: they see an option that was not typed as unset.
    /// </summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, string?> check)
    {
        option.Validators.Add(result =>
        {
            if (check(result.GetValueOrDefault<T>()!) is { } error)
            {
                result.AddError(error);
            }
        });
        return option;
    }

    public static Func<int, string?> ValidPort(string flag) => value => value is < 0 or > 65535 ? $"{flag} must be between 0 and 65535" : null;

    public static string EnvironmentVariable(string name) => "MEZZO_" + name.Replace('-', '_').ToUpperInvariant();
}

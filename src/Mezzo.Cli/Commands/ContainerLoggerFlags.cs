using System.CommandLine;
using Mezzo.Agent;
using Mezzo.Agent.Fetching;
using Mezzo.Agent.Sandbox;
using Mezzo.Cli.Flags;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>--container-logger sandbox|logrotate</c> with <c>--container-logger-max-size</c> and
/// <c>--container-logger-max-files</c> (Mesos's LogrotateContainerLogger), shared by <c>agent</c> and <c>dev</c>.
/// </summary>
public sealed record ContainerLoggerFlags(Option<string> Logger, Option<string> MaxSize, Option<int> MaxFiles)
{
    public static ContainerLoggerFlags Create() => new(
        FlagOption.Create("container-logger",
                "Where a task's stdout/stderr go: 'sandbox' (files in the sandbox, unbounded) or 'logrotate' (the task's supervisor "
                + "copies them into the sandbox and rotates stdout -> stdout.1 ... by size; keeps working while the agent is down)", () => "sandbox")
            .Check(value => ContainerLoggerOptions.ParseKind(value) is null
                ? $"--container-logger: unknown logger '{value}'; expected one of: {string.Join(", ", ContainerLoggerOptions.Names)}"
                : null),
        FlagOption.Create("container-logger-max-size", "With --container-logger=logrotate: rotate stdout and stderr past this size, e.g. 10MB, 512KB", () => "10MB")
            .Check(value => FetcherOptions.TryParseSize(value, out var bytes) && bytes >= 1
                ? null
                : $"--container-logger-max-size: '{value}' is not a positive size (e.g. 10MB, 512KB)"),
        FlagOption.Create("container-logger-max-files", "With --container-logger=logrotate: rotated files kept per stream (stdout.1 ... stdout.N); 0 keeps none", () => ContainerLoggerOptions.DefaultMaxFiles)
            .Check(value => value is < 0 or > 1000 ? "--container-logger-max-files must be between 0 and 1000" : null));

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Logger);
        command.Options.Add(MaxSize);
        command.Options.Add(MaxFiles);
    }

    public void Apply(ParseResult parsed, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(options);
        FetcherOptions.TryParseSize(parsed.GetValue(MaxSize), out var bytes);
        options.ContainerLogger = new ContainerLoggerOptions
        {
            Kind = ContainerLoggerOptions.ParseKind(parsed.GetValue(Logger)) ?? ContainerLoggerKind.Sandbox,
            MaxSize = bytes,
            MaxFiles = parsed.GetValue(MaxFiles),
        };
    }
}

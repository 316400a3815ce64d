using System.CommandLine;
using Mezzo.Agent;
using Mezzo.Agent.Images;
using Mezzo.Cli.Flags;

namespace Mezzo.Cli.Commands;

/// <summary>The image store flags, shared by <c>agent</c> and <c>dev</c>.</summary>
public sealed record ImageFlags(Option<string> DockerRegistry, Option<string?> StoreDir, Option<string?> DockerConfig, Option<long> MaxBytes)
{
    public static ImageFlags Create() => new(
        DockerRegistryOption(),
        StoreDirOption(),
        FlagOption.Create<string?>("docker-config", "Docker config.json whose \"auths\" give registry credentials", () => null)
            .Check(path => path is { Length: > 0 } && !File.Exists(path) ? $"--docker-config: '{path}' does not exist" : null),
        FlagOption.Create("image-store-max-bytes", "Evict images no container uses once unpacked layers exceed this many bytes (0: never)", () => 0L)
            .Check(value => value < 0 ? "--image-store-max-bytes must be 0 or more" : null));

    private static Option<string> DockerRegistryOption() =>
        FlagOption.Create("docker-registry", "Registry for image names without a registry host (https://host[:port], http://host[:port]), or a directory of docker-save archives named <repository>:<tag>.tar", () => ImageOptions.DefaultDockerRegistry)
            .Check(CheckRegistry);

    private static Option<string?> StoreDirOption()
    {
        var option = FlagOption.Create<string?>("image-store-dir", "Layer cache and container root file systems (default: <work-dir>/images); Mesos's --docker_store_dir is accepted too", () => null);
        option.Aliases.Add("--docker-store-dir");
        option.Aliases.Add("--docker_store_dir");
        return option;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(DockerRegistry);
        command.Options.Add(StoreDir);
        command.Options.Add(DockerConfig);
        command.Options.Add(MaxBytes);
    }

    public void Apply(ParseResult parsed, AgentOptions options)
    {
        options.Images.DockerRegistry = parsed.GetValue(DockerRegistry)!;
        options.Images.StoreDir = parsed.GetValue(StoreDir) is { Length: > 0 } dir ? Path.GetFullPath(dir) : null;
        options.Images.DockerConfig = parsed.GetValue(DockerConfig) is { Length: > 0 } config ? Path.GetFullPath(config) : null;
        options.Images.StoreMaxBytes = parsed.GetValue(MaxBytes);
    }

    private static string? CheckRegistry(string value)
    {
        try
        {
            ImageStore.ParseRegistryFlag(value);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }
}

using System.Diagnostics;
using Mezzo.Agent.Images;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mezzo.Agent.Tests.Images;

/// <summary>A temp work dir plus image stores over it; everything is removed on dispose.</summary>
public abstract class StoreHarness : IDisposable
{
    private readonly List<ImageStore> _stores = [];

    protected StoreHarness()
    {
        Root = Directory.CreateTempSubdirectory("mezzo-images-").FullName;
        WorkDir = Path.Join(Root, "work");
    }

    protected string Root { get; }

    protected string WorkDir { get; }

    protected string StoreDir => Path.Join(WorkDir, "images");

    protected ImageStore Store(string? registry = null, long maxBytes = 0, HttpMessageHandler? handler = null, string? dockerConfig = null)
    {
        var options = new ImageOptions { DockerRegistry = registry ?? ImageOptions.DefaultDockerRegistry, StoreMaxBytes = maxBytes, DockerConfig = dockerConfig };
        var store = new ImageStore(options, WorkDir, NullLogger.Instance, handler: handler);
        _stores.Add(store);
        return store;
    }

    protected string TempPath(string name) => Path.Join(Root, name);

    /// <summary>The store holds no partial state: no staging leftovers, and exactly the given layers.</summary>
    protected void AssertNoStaging()
    {
        var staging = Path.Join(StoreDir, "staging");
        Assert.True(!Directory.Exists(staging) || !Directory.EnumerateFileSystemEntries(staging).Any(),
            "staging must be empty: " + string.Join(", ", Directory.Exists(staging) ? Directory.EnumerateFileSystemEntries(staging) : []));
    }

    protected static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {output}");
        return output;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }
}

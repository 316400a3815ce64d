using System.Diagnostics;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>A real tmpfs of a fixed size, to run out of space on; unmounted (lazily, if still busy) on dispose.</summary>
public sealed class Tmpfs : IDisposable
{
    private readonly TempDir _mountPoint = new();

    private Tmpfs()
    {
    }

    public string Path => _mountPoint.Path;

    public static async Task<Tmpfs> MountAsync(string size)
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "Needs root to mount a tmpfs.");
        var tmpfs = new Tmpfs();
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", tmpfs.Path);
        return tmpfs;
    }

    /// <summary>Writes a file until the file system is full; returns it (delete it to free the space).</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        var chunk = new byte[64 * 1024];
        using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                stream.Write(chunk);
            }
        }
        catch (IOException)
        {
            // Full. Smaller writes take the last blocks too, so not even a small checkpoint fits.
            for (var size = chunk.Length / 2; size > 0; size /= 2)
            {
                try
                {
                    while (true)
                    {
                        stream.Write(chunk.AsSpan(0, size));
                    }
                }
                catch (IOException)
                {
                }
            }
        }

        return filler;
    }

    public void Dispose()
    {
        RunAsync("umount", "--lazy", Path).GetAwaiter().GetResult();
        _mountPoint.Dispose();
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}");
        }
    }
}

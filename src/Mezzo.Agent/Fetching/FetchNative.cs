using System.Runtime.InteropServices;

namespace Mezzo.Agent.Fetching;

internal static partial class FetchNative
{
    private const string Lib = "libc";

    /// <summary>lchown(2): changes the link itself, never what a symlink points at, so a symlink in an archive
    /// cannot make the agent hand a file outside the sandbox to the task's user.</summary>
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lchown(string path, uint owner, uint group);

    [LibraryImport(Lib)]
    internal static partial uint geteuid();

    internal static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("file modes are a Unix notion");
        }

        File.SetUnixFileMode(path, mode);
    }
}

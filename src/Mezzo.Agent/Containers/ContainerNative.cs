using System.Runtime.InteropServices;

namespace Mezzo.Agent.Containers;

/// <summary>mount(2), umount2(2) and setns(2), which .NET does not expose.</summary>
internal static partial class ContainerNative
{
    private const string Lib = "libc";

    internal const int MNT_DETACH = 2;
    internal const int CLONE_NEWNET = 0x40000000;
    internal const int EINVAL = 22;
    internal const int ENOENT = 2;

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mount(string source, string target, string fstype, nuint flags, string data);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int umount2(string target, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setns(int fd, int nstype);

    internal const int RLIMIT_NOFILE = 7;

    [System.Runtime.InteropServices.StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int getrlimit(int resource, out RLimit limit);

    /// <summary>The agent's own hard RLIMIT_NOFILE: a container may get up to it even without CAP_SYS_RESOURCE.</summary>
    internal static long NoFileHardLimit() =>
        getrlimit(RLIMIT_NOFILE, out var limit) == 0 ? (long)Math.Min(limit.Maximum, 1UL << 20) : 1024;

    internal static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
}

using System.Runtime.InteropServices;

namespace Mezzo.Agent.Tests;

/// <summary>libc calls the tests need to set up situations .NET cannot create (fds without
/// O_CLOEXEC, FIFOs) and to look at the test process itself.</summary>
internal static class TestNative
{
    [DllImport("libc", SetLastError = true)]
    internal static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    internal static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    internal static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("libc")]
    internal static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    internal static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}

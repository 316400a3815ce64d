namespace Mezzo.Agent.Launcher;

/// <summary>Linux signal numbers and their glibc <c>strsignal</c> descriptions.</summary>
public static class Signals
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGABRT = 6;
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGSEGV = 11;
    public const int SIGUSR2 = 12;
    public const int SIGPIPE = 13;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    /// <summary>Highest signal number the Linux kernel accepts (SIGRTMAX).</summary>
    public const int Max = 64;

    // A table rather than strsignal(3): strsignal may use a static buffer (not thread-safe)
    // and its text depends on the C library's locale; Mesos status messages must be stable.
    private static readonly string[] Descriptions =
    [
        "",
        "Hangup",
        "Interrupt",
        "Quit",
        "Illegal instruction",
        "Trace/breakpoint trap",
        "Aborted",
        "Bus error",
        "Floating point exception",
        "Killed",
        "User defined signal 1",
        "Segmentation fault",
        "User defined signal 2",
        "Broken pipe",
        "Alarm clock",
        "Terminated",
        "Stack fault",
        "Child exited",
        "Continued",
        "Stopped (signal)",
        "Stopped",
        "Stopped (tty input)",
        "Stopped (tty output)",
        "Urgent I/O condition",
        "CPU time limit exceeded",
        "File size limit exceeded",
        "Virtual timer expired",
        "Profiling timer expired",
        "Window changed",
        "I/O possible",
        "Power failure",
        "Bad system call",
    ];

    // glibc reserves 32 and 33 for itself, so applications see SIGRTMIN as 34.
    private const int GlibcRtMin = 34;

    /// <summary>Same text as glibc's <c>strsignal</c> in the C locale, e.g. 9 => "Killed".</summary>
    public static string Describe(int signal) => signal switch
    {
        > 0 when signal < Descriptions.Length => Descriptions[signal],
        >= GlibcRtMin and <= Max => $"Real-time signal {signal - GlibcRtMin}",
        _ => $"Unknown signal {signal}",
    };
}

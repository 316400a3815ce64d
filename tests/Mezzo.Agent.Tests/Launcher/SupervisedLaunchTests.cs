using System.Globalization;
using AwesomeAssertions;
using Mezzo.Agent.Launcher;
using Mezzo.Supervisor;

namespace Mezzo.Agent.Tests.Launcher;

/// <summary>Tasks started through the real mezzo-supervisor (built beside the agent).</summary>
public sealed class SupervisedLaunchTests : IDisposable
{
    private static readonly TimeSpan Timeout = Eventually.DefaultTimeout;
    private static readonly string SupervisorPath = Path.Combine(AppContext.BaseDirectory, "mezzo-supervisor");

    private readonly PosixProcessLauncher _launcher = new();
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mezzo-supervised-");

    public SupervisedLaunchTests()
    {
        // A live "agent" for the supervisors' watchdog: this test process.
        File.WriteAllText(AgentFile, $"{Environment.ProcessId} {ProcStat.StartTime("/proc", Environment.ProcessId)}\n");
    }

    private string RunDir => _directory.FullName;

    private string AgentFile => Path.Join(_directory.FullName, "agent.pid");

    public void Dispose()
    {
        _launcher.Dispose();
        _directory.Delete(recursive: true);
    }

    private LaunchSpec Shell(string script, TimeSpan? recoveryTimeout = null, string? agentFile = null) =>
        new("sh", ["-c", script], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, _directory.FullName,
            Path.Join(_directory.FullName, "stdout"), Path.Join(_directory.FullName, "stderr"),
            Supervisor: new Supervision(SupervisorPath, RunDir, agentFile ?? AgentFile, recoveryTimeout ?? TimeSpan.FromMinutes(15)));

    [Fact]
    public async Task The_task_runs_as_the_supervisors_child_and_its_exit_code_is_reported()
    {
        var process = _launcher.Launch(Shell("echo parent=$PPID; exit 3"));

        var status = await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        status.Should().Be(ExitStatus.Exited(3));
        File.ReadAllText(Path.Join(_directory.FullName, "stdout")).Should().Be($"parent={process.Pid}\n", "the supervisor, not the agent, is the parent");
        File.ReadAllText(Path.Join(RunDir, ExitRecord.FileName)).Should().Contain("exited 3");
    }

    [Fact]
    public async Task A_sigterm_is_forwarded_to_the_task()
    {
        var process = _launcher.Launch(Shell("echo ready; exec sleep 1000"));
        await Eventually.TrueAsync(() => File.Exists(Path.Join(_directory.FullName, "stdout")) && File.ReadAllText(Path.Join(_directory.FullName, "stdout")).Contains("ready", StringComparison.Ordinal));

        process.Signal(Signals.SIGTERM);

        (await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(ExitStatus.Killed(Signals.SIGTERM));
    }

    [Fact]
    public async Task A_sigkill_reaches_a_task_that_ignores_sigterm()
    {
        var process = _launcher.Launch(Shell("trap '' TERM; echo ready; while :; do sleep 1; done"));
        await Eventually.TrueAsync(() => File.Exists(Path.Join(_directory.FullName, "stdout")) && File.ReadAllText(Path.Join(_directory.FullName, "stdout")).Contains("ready", StringComparison.Ordinal));

        await process.KillAsync(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);

        (await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(ExitStatus.Killed(Signals.SIGKILL));
    }

    [Fact]
    public async Task A_task_the_supervisor_cannot_start_ends_with_a_launch_error()
    {
        var spec = Shell("true") with { CgroupProcs = [Path.Join(_directory.FullName, "no-such-cgroup", "cgroup.procs")] };

        var status = await _launcher.Launch(spec).Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        status.LaunchError.Should().Contain("cannot join cgroup").And.Contain("no-such-cgroup");
        status.Describe().Should().Be(status.LaunchError);
    }

    [Fact]
    public void A_missing_supervisor_binary_fails_the_launch_clearly()
    {
        var spec = Shell("true") with { Supervisor = new Supervision("/nonexistent/mezzo-supervisor", RunDir, AgentFile, TimeSpan.FromMinutes(1)) };

        ((Action)(() => _launcher.Launch(spec))).Should().Throw<LaunchException>().WithMessage("*/nonexistent/mezzo-supervisor*missing*");
    }

    [Fact]
    public async Task Another_launcher_adopts_a_live_supervisor_signals_it_and_sees_the_task_end()
    {
        var process = _launcher.Launch(Shell("exec sleep 1000"));
        var start = ProcStat.StartTime("/proc", process.Pid)!;
        using var successor = new PosixProcessLauncher();

        successor.Adopt(process.Pid, "1", RunDir).Should().BeNull("a start time that does not match is another process");
        var adopted = successor.Adopt(process.Pid, start, RunDir);
        adopted.Should().NotBeNull();
        adopted!.Signal(Signals.SIGKILL);

        (await adopted.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(ExitStatus.Killed(Signals.SIGKILL));
        (await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(ExitStatus.Killed(Signals.SIGKILL));
    }

    [Fact]
    public async Task Without_a_live_agent_for_the_recovery_timeout_the_supervisor_kills_its_task()
    {
        var deadAgent = Path.Join(_directory.FullName, "dead-agent.pid");
        // Our own pid with a start time no process has: an agent that is gone.
        File.WriteAllText(deadAgent, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} 1\n"));
        var process = _launcher.Launch(Shell("exec sleep 1000", TimeSpan.FromMilliseconds(300), deadAgent));

        (await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(ExitStatus.Killed(Signals.SIGKILL));
        File.ReadAllText(Path.Join(RunDir, ExitRecord.FileName)).Should().Contain("recovery timeout");
    }

    [Fact]
    public async Task With_a_live_agent_the_recovery_timeout_never_fires()
    {
        var process = _launcher.Launch(Shell("sleep 1; exit 5", TimeSpan.FromMilliseconds(100)));

        (await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(ExitStatus.Exited(5));
    }

    [Fact]
    public async Task A_supervisor_whose_path_the_tasks_private_tmp_hides_still_starts_and_is_the_namespaces_init()
    {
        Assert.SkipUnless(TestNative.geteuid() == 0, "Creating mount and pid namespaces needs root.");
        // Another /tmp directory than the sandbox's: inside the task's mount namespace /tmp is the sandbox's own tmp,
        // and only the sandbox's top /tmp directory is bound back, so this path is hidden there.
        var elsewhere = Directory.CreateTempSubdirectory("mezzo-supervisor-bin-");
        try
        {
            var copy = Path.Join(elsewhere.FullName, "mezzo-supervisor");
            File.Copy(SupervisorPath, copy);
            File.SetUnixFileMode(copy, File.GetUnixFileMode(SupervisorPath));
            var tmp = Directory.CreateDirectory(Path.Join(_directory.FullName, "tmp")).FullName;
            var spec = Shell($"test -e {copy} && echo visible || echo hidden; echo pid1=$(cat /proc/1/comm); exit 4") with
            {
                Namespaces = new NamespaceSpec(Pid: true, PrivateTmp: tmp),
                Supervisor = new Supervision(copy, RunDir, AgentFile, TimeSpan.FromMinutes(15)),
            };

            var status = await _launcher.Launch(spec).Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

            status.Should().Be(ExitStatus.Exited(4));
            File.ReadAllText(Path.Join(_directory.FullName, "stdout")).Should().Be("hidden\npid1=mezzo-superviso\n");
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }

    [Fact]
    public void An_unreadable_exit_record_is_reported_not_trusted()
    {
        var file = Path.Join(RunDir, ExitRecord.FileName);
        File.WriteAllText(file, "mezzo-exit 1\nexited 0\n");

        PosixProcessLauncher.ReadExitRecord(file, default).LaunchError.Should().Contain("unreadable").And.Contain("truncated");
        File.Delete(file);
        PosixProcessLauncher.ReadExitRecord(file, ExitStatus.Killed(9)).Should().Be(ExitStatus.Killed(9), "a supervisor killed before it could write says how it died");
    }
}

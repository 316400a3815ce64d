using System.Globalization;
using AwesomeAssertions;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tests.Launcher;

/// <summary>Tasks in their own pid and mount namespaces, on this machine's real kernel (root only).</summary>
public sealed class NamespaceLaunchTests : IDisposable
{
    private static readonly TimeSpan Timeout = Eventually.DefaultTimeout;
    private static readonly Dictionary<string, string> BaseEnvironment = new() { ["PATH"] = "/usr/bin:/bin" };

    private readonly PosixProcessLauncher _launcher = new();
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mezzo-ns-");

    public NamespaceLaunchTests()
    {
        Assert.SkipUnless(TestNative.geteuid() == 0, "Creating mount and pid namespaces needs root.");
        Directory.CreateDirectory(SandboxTmp);
        File.SetUnixFileMode(SandboxTmp, (UnixFileMode)0b1_111_111_111);
    }

    private string SandboxTmp => Path.Join(_directory.FullName, "tmp");

    private string Stdout => File.ReadAllText(Path.Join(_directory.FullName, "stdout"));

    private string Stderr => File.ReadAllText(Path.Join(_directory.FullName, "stderr"));

    public void Dispose()
    {
        _launcher.Dispose();
        _directory.Delete(recursive: true);
    }

    private LaunchSpec Shell(string script, bool pid = true, bool tmp = true) =>
        new("sh", ["-c", script], BaseEnvironment, _directory.FullName,
            Path.Join(_directory.FullName, "stdout"), Path.Join(_directory.FullName, "stderr"),
            Namespaces: new NamespaceSpec(pid, tmp ? SandboxTmp : null));

    private async Task<ExitStatus> RunAsync(LaunchSpec spec) =>
        await _launcher.Launch(spec).Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Ps_and_proc_inside_show_only_the_tasks_own_processes()
    {
        var status = await RunAsync(Shell("echo self=$$; ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '; echo; ps -e -o pid=,comm= ; test -e /proc/" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + " && echo AGENT-VISIBLE; exit 0"));

        status.Success.Should().BeTrue(Stderr);
        var lines = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("self=2", "pid 1 is the namespace's init, the task is its first sibling");
        var pids = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        pids.Should().OnlyContain(p => p < 20, $"only the task's few processes are visible, got {lines[1]}");
        lines.Skip(2).Select(l => l.Trim()).Should().Contain(["1 sleep", "2 sh"]);
        Stdout.Should().NotContain("AGENT-VISIBLE");
    }

    [Fact]
    public async Task A_file_written_to_tmp_lands_in_the_sandbox_tmp_and_not_in_the_hosts_tmp()
    {
        var name = "mezzo-ns-" + Guid.NewGuid().ToString("N");

        var status = await RunAsync(Shell($"echo hello > /tmp/{name}"));

        status.Success.Should().BeTrue(Stderr);
        File.ReadAllText(Path.Join(SandboxTmp, name)).Should().Be("hello\n");
        File.Exists(Path.Join("/tmp", name)).Should().BeFalse();
    }

    [Fact]
    public async Task No_mount_of_the_task_is_visible_on_the_host_during_or_after_it()
    {
        var process = _launcher.Launch(Shell("sleep 1000"));
        File.ReadAllText("/proc/self/mountinfo").Should().NotContain(SandboxTmp);
        process.Signal(Signals.SIGKILL);
        await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        File.ReadAllText("/proc/self/mountinfo").Should().NotContain(SandboxTmp);
    }

    [Theory]
    [InlineData("exit 0", 0, null)]
    [InlineData("exit 7", 7, null)]
    [InlineData("exit 137", 137, null)]
    [InlineData("kill -TERM $$", null, Signals.SIGTERM)]
    [InlineData("kill -SEGV $$", null, 11)]
    public async Task The_exit_code_or_killing_signal_is_the_tasks_own(string script, int? code, int? signal)
    {
        var status = await RunAsync(Shell(script));

        status.Should().Be(new ExitStatus(code, signal));
    }

    [Fact]
    public async Task SIGTERM_to_the_process_group_reaches_the_task_and_its_children()
    {
        var process = _launcher.Launch(Shell("sleep 1000 & echo $! > child; wait"));
        await Eventually.TrueAsync(() => File.Exists(Path.Join(_directory.FullName, "child")) && new FileInfo(Path.Join(_directory.FullName, "child")).Length > 0);

        process.Signal(Signals.SIGTERM);

        (await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)).Should().Be(new ExitStatus(null, Signals.SIGTERM));
    }

    [Fact]
    public async Task When_the_task_ends_everything_in_its_namespace_is_gone_escaped_daemons_included()
    {
        // The daemon leaves the task's session, so no process-group kill reaches it: only the namespace's end does.
        var status = await RunAsync(Shell("setsid sleep 1000 & sleep 1000 & echo started; exit 0") with { Environment = new Dictionary<string, string>(BaseEnvironment) { ["MESOS_SANDBOX"] = _directory.FullName } });

        status.Should().Be(new ExitStatus(0, null));
        Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(_directory.FullName).Should().BeEmpty("the exit is reported only once the namespace is empty");
        _launcher.RunningCount.Should().Be(0);
    }

    [Fact]
    public async Task Mounts_are_made_before_the_switch_to_another_user()
    {
        var status = await RunAsync(Shell("id -u; touch /tmp/mine && ls /proc | grep -c -E '^[0-9]+$'") with { User = "nobody" });

        status.Success.Should().BeTrue(Stderr);
        var lines = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("65534");
        File.Exists(Path.Join(SandboxTmp, "mine")).Should().BeTrue();
    }

    [Fact]
    public async Task Without_a_pid_namespace_the_task_still_gets_its_private_tmp_and_sees_the_host()
    {
        var status = await RunAsync(Shell($"touch /tmp/only-mount; test -e /proc/{Environment.ProcessId} && echo host-visible", pid: false));

        status.Success.Should().BeTrue(Stderr);
        Stdout.Should().Contain("host-visible");
        File.Exists(Path.Join(SandboxTmp, "only-mount")).Should().BeTrue();
    }

    [Fact]
    public async Task A_missing_sandbox_tmp_fails_the_launch_with_a_clear_message_and_leaves_nothing_running()
    {
        var spec = Shell("true") with { Namespaces = new NamespaceSpec(true, Path.Join(_directory.FullName, "missing")) };

        var launch = () => _launcher.Launch(spec);

        launch.Should().Throw<LaunchException>().WithMessage("*Failed to mount*missing*on /tmp*");
        _launcher.RunningCount.Should().Be(0);
        // The thread is back in the agent's namespaces and launches again.
        (await RunAsync(Shell("true"))).Success.Should().BeTrue();
    }

    [Fact]
    public async Task Many_concurrent_launches_each_get_their_own_namespace()
    {
        var processes = Enumerable.Range(0, 20).Select(_ => _launcher.Launch(Shell("test $$ = 2", tmp: false))).ToList();

        var statuses = await Task.WhenAll(processes.Select(p => p.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken)));

        statuses.Should().OnlyContain(s => s.Success, "every task is pid 2 of a fresh namespace");
        _launcher.RunningCount.Should().Be(0);
    }
}

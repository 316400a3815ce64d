using System.Diagnostics;
using AwesomeAssertions;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tests.Launcher;

public sealed class PosixProcessLauncherTests : IDisposable
{
    private static readonly TimeSpan Timeout = Eventually.DefaultTimeout;

    private static readonly Dictionary<string, string> BaseEnvironment = new() { ["PATH"] = "/usr/bin:/bin" };

    private readonly PosixProcessLauncher _launcher = new();
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mezzo-launcher-");

    private string StdoutPath => Path.Join(_directory.FullName, "stdout");

    private string StderrPath => Path.Join(_directory.FullName, "stderr");

    public void Dispose()
    {
        _launcher.Dispose();
        _directory.Delete(recursive: true);
    }

    private LaunchSpec Spec(string executable, params string[] arguments) =>
        new(executable, arguments, BaseEnvironment, _directory.FullName, StdoutPath, StderrPath);

    private LaunchSpec Shell(string script) => Spec("sh", "-c", script);

    private async Task<ExitStatus> RunAsync(LaunchSpec spec) =>
        await _launcher.Launch(spec).Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Exit_code_zero_is_success()
    {
        var status = await RunAsync(Spec("true"));

        status.Should().Be(new ExitStatus(0, null));
        status.Success.Should().BeTrue();
        status.Describe().Should().Be("Command exited with status 0");
    }

    [Fact]
    public async Task Exit_code_three_is_reported()
    {
        var status = await RunAsync(Shell("exit 3"));

        status.Should().Be(new ExitStatus(3, null));
        status.Success.Should().BeFalse();
        status.Describe().Should().Be("Command exited with status 3");
    }

    [Fact]
    public async Task Death_by_signal_is_reported()
    {
        var status = await RunAsync(Shell("kill -KILL $$"));

        status.Should().Be(new ExitStatus(null, 9));
        status.Success.Should().BeFalse();
        status.Describe().Should().Be("Command terminated with signal Killed");
    }

    [Fact]
    public async Task Signal_reaches_the_process()
    {
        var process = _launcher.Launch(Spec("sleep", "100"));

        process.Signal(Signals.SIGTERM);
        var status = await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        status.Should().Be(new ExitStatus(null, Signals.SIGTERM));
        status.Describe().Should().Be("Command terminated with signal Terminated");
    }

    [Fact]
    public async Task Signal_after_exit_is_a_no_op()
    {
        var process = _launcher.Launch(Spec("true"));
        await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        process.Invoking(p => p.Signal(Signals.SIGKILL)).Should().NotThrow();
        await process.KillAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Stdout_and_stderr_are_appended_to_the_files()
    {
        File.WriteAllText(StdoutPath, "before\n");

        (await RunAsync(Shell("echo out; echo err >&2"))).Success.Should().BeTrue();
        (await RunAsync(Shell("echo out2; echo err2 >&2"))).Success.Should().BeTrue();

        File.ReadAllText(StdoutPath).Should().Be("before\nout\nout2\n");
        File.ReadAllText(StderrPath).Should().Be("err\nerr2\n");
    }

    [Fact]
    public async Task Output_files_are_created_0644()
    {
        await RunAsync(Spec("true"));

        File.GetUnixFileMode(StdoutPath).Should().Be(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    [Fact]
    public async Task Environment_is_exactly_what_was_passed()
    {
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["MEZZO_TASK"] = "t1",
            ["WITH_SPACES"] = "a b=c",
            ["UNICODE"] = "héllo",
        };

        var status = await RunAsync(Spec("env") with { Environment = environment });

        status.Success.Should().BeTrue();
        File.ReadAllLines(StdoutPath).Should().BeEquivalentTo(
            "PATH=/usr/bin:/bin", "MEZZO_TASK=t1", "WITH_SPACES=a b=c", "UNICODE=héllo");
    }

    [Fact]
    public async Task Empty_environment_is_allowed_and_falls_back_to_the_default_path()
    {
        var status = await RunAsync(Spec("env") with { Environment = new Dictionary<string, string>() });

        status.Success.Should().BeTrue();
        File.ReadAllText(StdoutPath).Should().BeEmpty();
    }

    [Fact]
    public async Task Arguments_are_passed_verbatim()
    {
        var status = await RunAsync(Spec("printf", "[%s]\\n", "a b", "", "$HOME", "'q'"));

        status.Success.Should().BeTrue();
        File.ReadAllText(StdoutPath).Should().Be("[a b]\n[]\n[$HOME]\n['q']\n");
    }

    [Fact]
    public async Task Working_directory_is_set()
    {
        var work = _directory.CreateSubdirectory("work dir");

        var status = await RunAsync(Spec("pwd") with { WorkingDirectory = work.FullName });

        status.Success.Should().BeTrue();
        File.ReadAllText(StdoutPath).Should().Be(work.FullName + "\n");
    }

    [Fact]
    public async Task Relative_executable_is_relative_to_the_working_directory()
    {
        var script = Path.Join(_directory.FullName, "run.sh");
        File.WriteAllText(script, "#!/bin/sh\nexit 7\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var status = await RunAsync(Spec("./run.sh"));

        status.ExitCode.Should().Be(7);
    }

    [Fact]
    public async Task Executable_is_searched_in_the_task_PATH_not_the_agent_PATH()
    {
        var bin = _directory.CreateSubdirectory("bin");
        var tool = Path.Join(bin.FullName, "mezzo-test-tool");
        File.WriteAllText(tool, "#!/bin/sh\nexit 5\n");
        File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var environment = new Dictionary<string, string> { ["PATH"] = $"/nonexistent:{bin.FullName}" };

        var status = await RunAsync(Spec("mezzo-test-tool") with { Environment = environment });
        status.ExitCode.Should().Be(5);

        // "true" is on the agent's PATH, but not on the task's.
        _launcher.Invoking(l => l.Launch(Spec("true") with { Environment = environment }))
            .Should().Throw<LaunchException>().WithMessage("*'true'*not found*");
    }

    [Fact]
    public void Missing_executable_is_a_launch_exception()
    {
        _launcher.Invoking(l => l.Launch(Spec("mezzo-no-such-command")))
            .Should().Throw<LaunchException>().WithMessage("*'mezzo-no-such-command'*not found*");
        _launcher.Invoking(l => l.Launch(Spec("/nonexistent/mezzo")))
            .Should().Throw<LaunchException>().WithMessage("*'/nonexistent/mezzo'*No such file or directory*");
        _launcher.RunningCount.Should().Be(0);
    }

    [Fact]
    public void Non_executable_file_is_a_launch_exception()
    {
        var file = Path.Join(_directory.FullName, "data.txt");
        File.WriteAllText(file, "not a program");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        _launcher.Invoking(l => l.Launch(Spec(file))).Should().Throw<LaunchException>().WithMessage("*Permission denied*");
    }

    [Fact]
    public void Missing_working_directory_is_a_launch_exception()
    {
        _launcher.Invoking(l => l.Launch(Spec("true") with { WorkingDirectory = "/nonexistent/mezzo" }))
            .Should().Throw<LaunchException>().WithMessage("*'/nonexistent/mezzo'*");
    }

    [Fact]
    public void Unwritable_stdout_path_is_a_launch_exception()
    {
        _launcher.Invoking(l => l.Launch(Spec("true") with { StdoutPath = "/nonexistent/mezzo/stdout" }))
            .Should().Throw<LaunchException>().WithMessage("*stdout*'/nonexistent/mezzo/stdout'*No such file or directory*")
            .Which.Errno.Should().Be(2);
    }

    [Fact]
    public void Invalid_environment_name_is_a_launch_exception()
    {
        var environment = new Dictionary<string, string> { ["A=B"] = "x" };

        _launcher.Invoking(l => l.Launch(Spec("true") with { Environment = environment }))
            .Should().Throw<LaunchException>();
    }

    [Fact]
    public void Unknown_user_is_a_launch_exception()
    {
        _launcher.Invoking(l => l.Launch(Spec("true") with { User = "mezzo-no-such-user" }))
            .Should().Throw<LaunchException>().WithMessage("Failed to get user information for 'mezzo-no-such-user'");
        _launcher.RunningCount.Should().Be(0);
    }

    [Fact]
    public async Task Runs_as_the_requested_user_when_root()
    {
        Assert.SkipUnless(TestNative.geteuid() == 0, "Switching users needs root; the agent runs as root in production.");

        var status = await RunAsync(Shell("id -u; id -g; id -G") with { User = "nobody" });

        status.Success.Should().BeTrue(File.ReadAllText(StderrPath));
        var lines = File.ReadAllLines(StdoutPath);
        lines[0].Should().Be("65534");
        lines[1].Should().NotBe("0");
        lines[2].Split(' ').Should().NotContain("0", "root's supplementary groups must not be kept");
    }

    [Fact]
    public async Task Joins_its_cgroups_as_root_before_switching_user()
    {
        Assert.SkipUnless(TestNative.geteuid() == 0, "Joining cgroups and switching users need root.");
        var options = new AgentOptions { WorkDir = Path.Combine(Path.GetTempPath(), "mezzo-launcher-cg-" + Guid.NewGuid().ToString("N")) };
        var isolator = Mezzo.Agent.Isolation.CgroupIsolator.Create(options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.SkipUnless(isolator.Enabled, "This host has no usable cgroups.");
        var container = isolator.Prepare("launcher-test", 0.1, 32);
        try
        {
            var status = await RunAsync(Shell("id -u; cat /proc/self/cgroup") with { User = "nobody", CgroupProcs = container.ProcsFiles });

            status.Success.Should().BeTrue(File.ReadAllText(StderrPath));
            var lines = File.ReadAllLines(StdoutPath);
            lines[0].Should().Be("65534");
            lines.Should().Contain(l => l.EndsWith("/" + isolator.AgentCgroup + "/launcher-test", StringComparison.Ordinal));
        }
        finally
        {
            await container.DestroyAsync(TimeSpan.FromSeconds(10));
            await isolator.RemoveAllAsync(removeAgentCgroup: true);
        }
    }

    [Fact]
    public async Task Running_as_the_current_user_needs_no_switch()
    {
        var me = TestNative.geteuid() == 0 ? "root" : Environment.UserName;

        var status = await RunAsync(Spec("id", "-u") with { User = me });

        status.Success.Should().BeTrue();
        File.ReadAllText(StdoutPath).Trim().Should().Be(TestNative.geteuid().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Process_leads_its_own_session_and_process_group()
    {
        var process = _launcher.Launch(Spec("sleep", "100"));

        var stat = Proc.Stat(process.Pid);
        stat.Should().NotBeNull();
        stat![2].Should().Be(process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "pgrp");
        stat[3].Should().Be(process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "session");

        await process.KillAsync(TimeSpan.Zero, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Signal_mask_and_ignored_signals_are_reset()
    {
        // The .NET runtime ignores SIGPIPE, among others; a task must start with default dispositions.
        var status = await RunAsync(Spec("grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"));

        status.Success.Should().BeTrue();
        File.ReadAllLines(StdoutPath).Should().BeEquivalentTo(
            "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000");
    }

    [Fact]
    public async Task KillAsync_escalates_to_SIGKILL_after_the_grace_period_and_kills_the_whole_group()
    {
        var pidFile = Path.Join(_directory.FullName, "grandchild.pid");
        var process = _launcher.Launch(Shell($"trap '' TERM; sleep 1000 & echo $! > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; sleep 100"));
        (await Eventually.TrueAsync(() => File.Exists(pidFile))).Should().BeTrue();
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Proc.IsGone(grandchild).Should().BeFalse();

        var grace = TimeSpan.FromMilliseconds(500);
        var stopwatch = Stopwatch.StartNew();
        await process.KillAsync(grace, TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        stopwatch.Elapsed.Should().BeGreaterThanOrEqualTo(grace - TimeSpan.FromMilliseconds(50));
        (await process.Exited).Should().Be(new ExitStatus(null, Signals.SIGKILL), "SIGTERM is ignored, so only SIGKILL can end it");
        (await Eventually.TrueAsync(() => Proc.IsGone(grandchild))).Should().BeTrue("the background grandchild must not survive");
    }

    [Fact]
    public async Task KillAsync_returns_as_soon_as_SIGTERM_works()
    {
        var process = _launcher.Launch(Spec("sleep", "100"));

        var stopwatch = Stopwatch.StartNew();
        await process.KillAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        (await process.Exited).Signal.Should().Be(Signals.SIGTERM);
    }

    [Fact]
    public async Task Orphaned_grandchildren_are_killed_when_the_leader_exits()
    {
        var pidFile = Path.Join(_directory.FullName, "grandchild.pid");

        var status = await RunAsync(Shell($"sleep 1000 & echo $! > {pidFile}; exit 0"));

        status.Success.Should().BeTrue();
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        (await Eventually.TrueAsync(() => Proc.IsGone(grandchild))).Should().BeTrue();
    }

    [Fact]
    public async Task Two_hundred_concurrent_processes_are_all_reported()
    {
        var processes = new LaunchedProcess[200];
        Parallel.For(0, processes.Length, i => processes[i] = _launcher.Launch(
            Spec(i % 2 == 0 ? "true" : "false") with { StdoutPath = "/dev/null", StderrPath = "/dev/null" }));

        var statuses = await Task.WhenAll(processes.Select(p => p.Exited)).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        statuses.Where((s, i) => s.ExitCode == (i % 2 == 0 ? 0 : 1)).Should().HaveCount(200);
        processes.Select(p => p.Pid).Should().OnlyHaveUniqueItems();
        _launcher.RunningCount.Should().Be(0);
    }

    [Fact]
    public async Task Reaper_wakes_about_once_per_exit_while_other_processes_are_being_spawned()
    {
        // Spawning while others exit is what once made the reaper spin: a child mid-spawn holds a copy of every
        // pidfd, so closing a reaped one left its EPOLLHUP registered and epoll_wait returned it over and over.
        const int Count = 400;
        var before = _launcher.ReaperWakeups;
        var processes = new LaunchedProcess[Count];
        Parallel.For(0, Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => processes[i] = _launcher.Launch(
            Spec("true") with { StdoutPath = "/dev/null", StderrPath = "/dev/null" }));
        await Task.WhenAll(processes.Select(p => p.Exited)).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        (_launcher.ReaperWakeups - before).Should().BeLessThanOrEqualTo(2 * Count, "one wake-up per exit, plus a few that find a child not yet waitable");
    }

    [Fact]
    public async Task Children_inherit_no_file_descriptors_but_stdio()
    {
        // A descriptor without O_CLOEXEC, as a careless native library might open one.
        const int O_RDONLY = 0;
        var leaky = TestNative.open("/etc/hostname", O_RDONLY);
        leaky.Should().BeGreaterThan(2);
        try
        {
            var status = await RunAsync(Spec("ls", "-l", "/proc/self/fd"));

            status.Success.Should().BeTrue(File.ReadAllText(StderrPath));
            var fds = File.ReadAllLines(StdoutPath)
                .Where(line => line.Contains(" -> ", StringComparison.Ordinal))
                .Select(line => line[..line.IndexOf(" -> ", StringComparison.Ordinal)].Split(' ')[^1] + " -> " +
                                line[(line.IndexOf(" -> ", StringComparison.Ordinal) + 4)..])
                .ToList();

            // ls's own descriptor on /proc/self/fd is the only extra one; a leaked fd would also push
            // it to a higher number than 3.
            fds.Should().HaveCount(4, string.Join("\n", fds));
            fds[0].Should().Be("0 -> /dev/null");
            fds[1].Should().Be($"1 -> {StdoutPath}");
            fds[2].Should().Be($"2 -> {StderrPath}");
            fds[3].Should().MatchRegex(@"^3 -> /proc/\d+/fd$");
        }
        finally
        {
            TestNative.close(leaky);
        }
    }

    [Fact]
    public async Task Dispose_kills_every_live_process_group()
    {
        var launcher = new PosixProcessLauncher();
        var pidFile = Path.Join(_directory.FullName, "grandchild.pid");
        var process = launcher.Launch(Shell($"sleep 1000 & echo $! > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; wait"));
        (await Eventually.TrueAsync(() => File.Exists(pidFile))).Should().BeTrue();
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        launcher.Dispose();

        var status = await process.Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        status.Signal.Should().Be(Signals.SIGKILL);
        Proc.IsGone(process.Pid).Should().BeTrue();
        (await Eventually.TrueAsync(() => Proc.IsGone(grandchild))).Should().BeTrue();
        launcher.Invoking(l => l.Launch(Spec("true"))).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Spawn_loop_baseline_measures_a_rate()
    {
        var rate = PosixProcessLauncher.SpawnLoopPerSecond("true", 50);

        rate.Should().BeGreaterThan(0);
    }
}

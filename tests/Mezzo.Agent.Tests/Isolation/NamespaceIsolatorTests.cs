using AwesomeAssertions;
using Mezzo.Agent.Isolation;
using Mezzo.Agent.Launcher;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Tests.Isolation;

/// <summary>Start-up detection of namespaces/pid and filesystem/linux, and the loud fallback when the probe fails.</summary>
public sealed class NamespaceIsolatorTests : IDisposable
{
    private sealed class CapturingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add($"{logLevel}: {formatter(state, exception)}");
    }

    private sealed class FakeLauncher(Func<LaunchSpec, LaunchedProcess> launch) : IProcessLauncher
    {
        public List<LaunchSpec> Specs { get; } = [];

        public LaunchedProcess Launch(LaunchSpec spec)
        {
            Specs.Add(spec);
            return launch(spec);
        }
    }

    private static LaunchedProcess Exited(ExitStatus status) => new(12345, Task.FromResult(status), _ => { });

    private readonly DirectoryInfo _workDir = Directory.CreateTempSubdirectory("mezzo-ns-workdir-");

    public void Dispose() => _workDir.Delete(recursive: true);

    [Fact]
    public void The_probe_works_in_the_work_dir_replacing_what_a_killed_agent_left_there_and_removes_it()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "The probe only runs as root.");
        var stale = Directory.CreateDirectory(Path.Combine(_workDir.FullName, "ns-probe", "tmp", "leftover"));
        string? scratchSeen = null;
        var launcher = new FakeLauncher(spec =>
        {
            scratchSeen = spec.WorkingDirectory;
            Directory.Exists(stale.FullName).Should().BeFalse("a previous probe's leftovers are removed first");
            return Exited(ExitStatus.Exited(0));
        });

        NamespaceIsolator.Create(new AgentOptions { WorkDir = _workDir.FullName }, launcher, new CapturingLogger()).Should().NotBeNull();

        scratchSeen.Should().Be(Path.Combine(_workDir.FullName, "ns-probe"));
        Directory.Exists(scratchSeen).Should().BeFalse("the probe removes its scratch directory");
    }

    [Fact]
    public void Without_either_isolator_in_the_flag_nothing_is_probed()
    {
        var launcher = new FakeLauncher(_ => throw new InvalidOperationException("must not launch"));

        NamespaceIsolator.Create(new AgentOptions { Isolation = "cgroups/cpu,disk/du" }, launcher, new CapturingLogger()).Should().BeNull();
        launcher.Specs.Should().BeEmpty();
    }

    [Fact]
    public void A_refused_probe_launch_degrades_loudly_and_names_the_reason()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "The probe only runs as root.");
        var log = new CapturingLogger();
        var launcher = new FakeLauncher(_ => throw new LaunchException("Failed to create namespaces: unshare: Operation not permitted"));

        NamespaceIsolator.Create(new AgentOptions { WorkDir = _workDir.FullName }, launcher, log).Should().BeNull();

        log.Lines.Should().ContainSingle(l => l.StartsWith("Warning: !!! ISOLATION DEGRADED", StringComparison.Ordinal)
            && l.Contains("namespaces/pid,filesystem/linux", StringComparison.Ordinal) && l.Contains("Operation not permitted", StringComparison.Ordinal));
    }

    [Fact]
    public void A_probe_task_that_fails_inside_degrades_with_its_exit_status()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "The probe only runs as root.");
        var log = new CapturingLogger();
        var launcher = new FakeLauncher(_ => Exited(ExitStatus.Exited(1)));

        NamespaceIsolator.Create(new AgentOptions { Isolation = "filesystem/linux", WorkDir = _workDir.FullName }, launcher, log).Should().BeNull();

        log.Lines.Should().ContainSingle(l => l.Contains("ISOLATION DEGRADED", StringComparison.Ordinal) && l.Contains("Command exited with status 1", StringComparison.Ordinal));
        launcher.Specs.Single().Namespaces.Should().Be(new NamespaceSpec(false, launcher.Specs[0].Namespaces!.PrivateTmp));
    }

    [Fact]
    public void A_working_probe_enables_the_requested_isolators_and_prepare_makes_a_world_writable_tmp()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "The probe only runs as root.");
        var log = new CapturingLogger();
        var isolator = NamespaceIsolator.Create(new AgentOptions { WorkDir = _workDir.FullName }, new FakeLauncher(_ => Exited(ExitStatus.Exited(0))), log)!;
        var sandbox = Directory.CreateTempSubdirectory("mezzo-ns-prepare-");
        try
        {
            var spec = isolator.Prepare(sandbox.FullName);

            spec.Should().Be(new NamespaceSpec(true, Path.Combine(sandbox.FullName, "tmp")));
            ((int)File.GetUnixFileMode(spec.PrivateTmp!)).Should().Be(0b1_111_111_111);
            log.Lines.Should().ContainSingle(l => l.StartsWith("Information: Isolation: namespaces/pid,filesystem/linux", StringComparison.Ordinal));
        }
        finally
        {
            sandbox.Delete(recursive: true);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using AwesomeAssertions;
using Mezzo.Agent.Launcher;
using Mezzo.Supervisor;

namespace Mezzo.Agent.Tests.Launcher;

/// <summary>The logrotate container logger in the real mezzo-supervisor: the task writes pipes, the supervisor rotates files.</summary>
public sealed class SupervisedLogRotationTests : IDisposable
{
    private static readonly TimeSpan Timeout = Eventually.DefaultTimeout;
    private static readonly string SupervisorPath = Path.Combine(AppContext.BaseDirectory, "mezzo-supervisor");

    private readonly PosixProcessLauncher _launcher = new();
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mezzo-logrotate-");

    public SupervisedLogRotationTests()
    {
        File.WriteAllText(AgentFile, $"{Environment.ProcessId} {ProcStat.StartTime("/proc", Environment.ProcessId)}\n");
    }

    private string Sandbox => _directory.FullName;

    private string AgentFile => Path.Join(_directory.FullName, "agent.pid");

    public void Dispose()
    {
        _launcher.Dispose();
        _directory.Delete(recursive: true);
    }

    private LaunchSpec Shell(string script, LogRotation? rotation) =>
        new("sh", ["-c", script], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Sandbox,
            Path.Join(Sandbox, "stdout"), Path.Join(Sandbox, "stderr"),
            Supervisor: new Supervision(SupervisorPath, Sandbox, AgentFile, TimeSpan.FromMinutes(15), rotation));

    private async Task<ExitStatus> RunAsync(string script, LogRotation? rotation) =>
        await _launcher.Launch(Shell(script, rotation)).Exited.WaitAsync(Timeout, TestContext.Current.CancellationToken);

    private string Read(string name) => File.ReadAllText(Path.Join(Sandbox, name));

    [Fact]
    public async Task Output_past_the_max_size_is_rotated_keeping_max_files_and_the_newest_lines_in_stdout()
    {
        // ~5.9 MB of numbered lines: every byte can be accounted for, in order.
        (await RunAsync("seq 1 800000", new LogRotation(1024 * 1024, 3))).Should().Be(ExitStatus.Exited(0));

        var files = Directory.GetFiles(Sandbox, "stdout*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        files.Should().Equal("stdout", "stdout.1", "stdout.2", "stdout.3");
        foreach (var file in files)
        {
            new FileInfo(Path.Join(Sandbox, file)).Length.Should().BeLessThanOrEqualTo(1024 * 1024, file);
        }

        foreach (var file in files.Skip(1))
        {
            new FileInfo(Path.Join(Sandbox, file)).Length.Should().Be(1024 * 1024, $"{file} was filled to the max size before it was rotated");
        }

        // Oldest to newest, the kept files are one unbroken tail of the output, ending with the last line in stdout.
        var tail = Read("stdout.3") + Read("stdout.2") + Read("stdout.1") + Read("stdout");
        var expected = string.Concat(Enumerable.Range(1, 800000).Select(i => i.ToString(CultureInfo.InvariantCulture) + "\n"));
        expected.EndsWith(tail, StringComparison.Ordinal).Should().BeTrue("the kept files hold the end of the output, in order");
        Read("stdout").Should().EndWith("\n800000\n");
    }

    [Fact]
    public async Task Stderr_is_rotated_on_its_own_and_stdout_is_untouched_below_its_size()
    {
        (await RunAsync("echo small; head -c 300000 /dev/zero | tr '\\0' e >&2", new LogRotation(100_000, 2))).Should().Be(ExitStatus.Exited(0));

        Read("stdout").Should().Be("small\n");
        File.Exists(Path.Join(Sandbox, "stdout.1")).Should().BeFalse();
        Directory.GetFiles(Sandbox, "stderr*").Select(Path.GetFileName).Order(StringComparer.Ordinal).Should().Equal("stderr", "stderr.1", "stderr.2");
        new FileInfo(Path.Join(Sandbox, "stderr")).Length.Should().Be(100_000);
    }

    [Fact]
    public async Task The_last_output_before_the_task_exits_is_in_the_file_when_its_exit_is_reported()
    {
        (await RunAsync("printf 'first\\n'; printf 'last words' >&2; exit 4", new LogRotation(1024 * 1024, 3))).Should().Be(ExitStatus.Exited(4));

        Read("stdout").Should().Be("first\n");
        Read("stderr").Should().Be("last words");
    }

    [Fact]
    public async Task With_no_files_to_keep_the_file_starts_over()
    {
        (await RunAsync("seq 1 30000", new LogRotation(10_000, 0))).Should().Be(ExitStatus.Exited(0));

        Directory.GetFiles(Sandbox, "stdout*").Select(Path.GetFileName).Should().Equal("stdout");
        var content = Read("stdout");
        content.Length.Should().BeLessThanOrEqualTo(10_000);
        content.Should().EndWith("\n30000\n");
    }

    [Fact]
    public async Task Output_already_in_the_file_counts_toward_the_first_rotation()
    {
        await File.WriteAllTextAsync(Path.Join(Sandbox, "stdout"), new string('x', 900), TestContext.Current.CancellationToken);

        (await RunAsync("printf '%0200d' 0", new LogRotation(1000, 1))).Should().Be(ExitStatus.Exited(0));

        Read("stdout.1").Should().Be(new string('x', 900) + new string('0', 100));
        Read("stdout").Should().Be(new string('0', 100));
    }

    [Fact]
    public async Task A_task_writing_50MB_runs_to_its_end_and_leaves_only_max_files_plus_one_in_the_sandbox()
    {
        (await RunAsync("head -c 52428800 /dev/zero", new LogRotation(1024 * 1024, 2))).Should().Be(ExitStatus.Exited(0));

        Directory.GetFiles(Sandbox, "stdout*").Sum(f => new FileInfo(f).Length).Should().BeLessThanOrEqualTo(3L * 1024 * 1024);
    }

    [Fact]
    public async Task The_sandbox_logger_leaves_the_files_to_the_task_and_never_rotates()
    {
        (await RunAsync("seq 1 30000", null)).Should().Be(ExitStatus.Exited(0));

        Directory.GetFiles(Sandbox, "stdout*").Select(Path.GetFileName).Should().Equal("stdout");
        Read("stdout").Should().EndWith("\n30000\n").And.StartWith("1\n2\n");
    }

    [Theory]
    [InlineData(new[] { "--log-max-size", "lots", "--stdout", "o", "--stderr", "e" }, "--log-max-size must be a positive size")]
    [InlineData(new[] { "--log-max-size", "0", "--stdout", "o", "--stderr", "e" }, "--log-max-size must be a positive size")]
    [InlineData(new[] { "--log-max-size", "1MB" }, "--log-max-size needs --stdout PATH and --stderr PATH")]
    [InlineData(new[] { "--log-max-size", "1MB", "--log-max-files", "-1", "--stdout", "o", "--stderr", "e" }, "--log-max-files must be a count")]
    [InlineData(new[] { "--log-max-size", "1MB", "--log-max-files", "many", "--stdout", "o", "--stderr", "e" }, "--log-max-files must be a count")]
    public async Task Bad_rotation_options_make_the_supervisor_exit_2_naming_them(string[] options, string message)
    {
        using var process = Process.Start(new ProcessStartInfo(SupervisorPath)
        {
            ArgumentList = { "--run-dir", Sandbox },
            RedirectStandardError = true,
            UseShellExecute = false,
        }.WithArguments([.. options, "--", "/bin/true", "true"]))!;
        var error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        process.ExitCode.Should().Be(2);
        error.Should().Contain(message);
        File.Exists(Path.Join(Sandbox, ExitRecord.FileName)).Should().BeFalse("nothing was started");
    }
}

internal static class StartInfoExtensions
{
    public static ProcessStartInfo WithArguments(this ProcessStartInfo info, IEnumerable<string> arguments)
    {
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }
}

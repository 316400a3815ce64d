using AwesomeAssertions;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tests.Launcher;

public sealed class ExitStatusTests
{
    [Theory]
    [InlineData(0, "Command exited with status 0")]
    [InlineData(3, "Command exited with status 3")]
    [InlineData(255, "Command exited with status 255")]
    public void Exit_codes_are_described_like_Mesos(int code, string expected) =>
        ExitStatus.Exited(code).Describe().Should().Be(expected);

    [Theory]
    [InlineData(1, "Command terminated with signal Hangup")]
    [InlineData(6, "Command terminated with signal Aborted")]
    [InlineData(9, "Command terminated with signal Killed")]
    [InlineData(11, "Command terminated with signal Segmentation fault")]
    [InlineData(15, "Command terminated with signal Terminated")]
    [InlineData(31, "Command terminated with signal Bad system call")]
    [InlineData(32, "Command terminated with signal Unknown signal 32")]
    [InlineData(34, "Command terminated with signal Real-time signal 0")]
    [InlineData(64, "Command terminated with signal Real-time signal 30")]
    public void Signals_are_described_with_strsignal_text(int signal, string expected) =>
        ExitStatus.Killed(signal).Describe().Should().Be(expected);

    [Fact]
    public void Only_exit_code_zero_is_success()
    {
        ExitStatus.Exited(0).Success.Should().BeTrue();
        ExitStatus.Exited(1).Success.Should().BeFalse();
        ExitStatus.Killed(15).Success.Should().BeFalse();
        default(ExitStatus).Success.Should().BeFalse();
        default(ExitStatus).Describe().Should().Be("Command exited with unknown status");
    }
}

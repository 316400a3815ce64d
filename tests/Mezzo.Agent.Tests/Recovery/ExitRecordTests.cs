using AwesomeAssertions;
using Mezzo.Supervisor;

namespace Mezzo.Agent.Tests.Recovery;

public sealed class ExitRecordTests
{
    [Theory]
    [InlineData(ExitRecord.Outcome.Exited, 7, null)]
    [InlineData(ExitRecord.Outcome.Killed, 9, "no agent recovered within the recovery timeout (1s)")]
    [InlineData(ExitRecord.Outcome.Failed, 0, "Failed to launch 'x': No such file or directory")]
    public void A_record_round_trips(ExitRecord.Outcome how, int value, string? reason)
    {
        var record = new ExitRecord(how, value, reason);

        ExitRecord.Parse(record.Format(), out var error).Should().Be(record);
        error.Should().BeNull();
    }

    [Fact]
    public void A_reason_on_several_lines_stays_one_line() =>
        ExitRecord.Parse(new ExitRecord(ExitRecord.Outcome.Failed, 0, "a\nb").Format(), out _)!.Reason.Should().Be("a b");

    [Theory]
    [InlineData("", "bad header")]
    [InlineData("mezzo-exit 1\nexited 7\n", "truncated")]
    [InlineData("mezzo-exit 1\nexited seven\nend\n", "bad status line")]
    [InlineData("mezzo-exit 1\nvanished 7\nend\n", "bad status 'vanished'")]
    [InlineData("mezzo-exit 2\nexited 7\nend\n", "bad header")]
    public void A_bad_or_partial_record_is_refused_with_a_reason(string text, string reason)
    {
        ExitRecord.Parse(text, out var error).Should().BeNull();
        error.Should().Contain(reason);
    }

    [Theory]
    [InlineData("123 (sleep) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 0", "98765")]
    [InlineData("123 (a) b) c) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 555 1000 0", "555")]
    [InlineData("123 (short) S 1", null)]
    [InlineData("no parenthesis", null)]
    public void The_start_time_is_field_22_whatever_the_command_name(string stat, string? start) =>
        ProcStat.StartTime(stat).Should().Be(start);
}

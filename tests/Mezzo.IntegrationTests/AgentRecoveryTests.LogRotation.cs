using System.Globalization;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The logrotate container logger lives in the task's supervisor: it rotates on while the agent is dead.</summary>
public sealed partial class AgentRecoveryTests
{
    [Fact]
    public async Task Under_logrotate_a_tasks_output_keeps_flowing_and_rotating_while_the_agent_is_down_and_after_it_is_back()
    {
        await using var cluster = await RecoveryCluster.StartAsync(
            "--container-logger", "logrotate", "--container-logger-max-size", "16KB", "--container-logger-max-files", "3");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        // Numbered lines, ~2 KB every 20 ms: several rotations a second, and every line can be found again.
        const string counter = "i=0; while :; do j=0; while [ $j -lt 100 ]; do i=$((i+1)); j=$((j+1)); echo \"line $i\"; done; sleep 0.02; done";
        var offer = await scheduler.NextOfferAsync();
        await scheduler.AcceptAsync(offer, RecoveryCluster.Launch((string)offer["agent_id"]!["value"]!, new Dictionary<string, string> { ["counter"] = counter }));
        await scheduler.WaitForUpdateAsync("counter", "TASK_RUNNING");
        await cluster.WaitForAllAcknowledgedAsync(1);
        var sandbox = await Poll.UntilAsync(
            () => Task.FromResult(Directory.GetFiles(cluster.AgentDir, "stdout.1", SearchOption.AllDirectories).Select(Path.GetDirectoryName).FirstOrDefault()),
            "the first rotation");

        cluster.KillAgent();
        var atDeath = LastLine(sandbox!);
        // While no agent runs, the supervisor still copies: the newest line moves on by more than a whole set of files.
        await Poll.UntilAsync(() => LastLine(sandbox!) > atDeath + 2000, "output to keep flowing without an agent");
        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId);
        var atReturn = LastLine(sandbox!);
        await Poll.UntilAsync(() => LastLine(sandbox!) > atReturn + 2000, "output to keep flowing after the agent is back");

        await scheduler.KillAsync("counter");
        await scheduler.WaitForUpdateAsync("counter", "TASK_KILLED");
        var files = Directory.GetFiles(sandbox!, "stdout*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        files.Should().Equal("stdout", "stdout.1", "stdout.2", "stdout.3");
        foreach (var file in files)
        {
            new FileInfo(Path.Combine(sandbox!, file!)).Length.Should().BeLessThanOrEqualTo(16 * 1024, file);
        }

        // Oldest to newest, the kept lines are consecutive: nothing was lost or reordered at a rotation.
        // A rotation may split a line between two files: the files are read as one text, its first and last lines partial.
        var text = string.Concat(files.AsEnumerable().Reverse().Select(f => File.ReadAllText(Path.Combine(sandbox!, f!))));
        var numbers = text.Split('\n').Skip(1).SkipLast(1)
            .Select(l => l.StartsWith("line ", StringComparison.Ordinal) ? long.Parse(l["line ".Length..], CultureInfo.InvariantCulture) : -1)
            .ToList();
        numbers.Should().NotBeEmpty();
        numbers.Zip(numbers.Skip(1)).Should().OnlyContain(pair => pair.Second == pair.First + 1);
    }

    /// <summary>The number of the newest whole line in the sandbox's stdout (0 before any).</summary>
    private static long LastLine(string sandbox)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(sandbox, "stdout"));
        }
        catch (FileNotFoundException)
        {
            // Between the rename to stdout.1 and the new stdout.
            return 0;
        }

        var lines = text.Split('\n');
        // The last element is the part after the final newline: possibly a half-written line.
        return lines.SkipLast(1).Reverse().Select(l => l.StartsWith("line ", StringComparison.Ordinal) && long.TryParse(l["line ".Length..], CultureInfo.InvariantCulture, out var n) ? n : 0)
            .FirstOrDefault(n => n > 0);
    }
}

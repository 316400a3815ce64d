using System.Diagnostics;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.OperatorCli;

/// <summary><c>mezzo completion bash|zsh</c> and the <c>[suggest]</c> directive it relies on.</summary>
public sealed class CliCompletionTests
{
    [Fact]
    public async Task The_suggest_directive_completes_verbs_and_subverbs()
    {
        var root = await CliRun.RunAsync("[suggest:6]", "mezzo ");
        root.Exit.Should().Be(0, root.ToString());
        root.Stdout.Split('\n').Should().Contain(["agent", "app", "completion", "framework", "job", "quota", "role", "state", "task"]);

        var agent = await CliRun.RunAsync("[suggest:12]", "mezzo agent ");
        agent.Stdout.Split('\n').Should().Contain(["list", "show", "drain", "--master"]);
    }

    [Fact]
    public async Task The_bash_script_wires_tab_completion_to_mezzo()
    {
        using var dir = new TempDir();
        // What an installed mezzo is: a command on PATH.
        var wrapper = Path.Combine(dir.Path, "mezzo");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet '{MezzoProcess.CliPath}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var script = await CliRun.RunAsync("completion", "bash");
        script.Exit.Should().Be(0, script.ToString());
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "mezzo.bash"), script.Stdout);

        async Task<string[]> CompleteAsync(string line, params string[] words)
        {
            var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"""
                source '{dir.Path}/mezzo.bash'
                COMP_LINE='{line}'; COMP_POINT=${"{"}#COMP_LINE{"}"}
                COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}
                _mezzo_complete
                printf '%s\n' "${"{"}COMPREPLY[@]{"}"}"
                """);
            info.Environment["PATH"] = dir.Path + ":" + Environment.GetEnvironmentVariable("PATH");
            using var bash = Process.Start(info)!;
            var output = await bash.StandardOutput.ReadToEndAsync();
            var errors = await bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();
            bash.ExitCode.Should().Be(0, errors);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        (await CompleteAsync("mezzo ta", "mezzo", "ta")).Should().Equal("task");
        (await CompleteAsync("mezzo agent ", "mezzo", "agent", "")).Should().Contain(["list", "show", "drain"]);
        (await CompleteAsync("mezzo quota s", "mezzo", "quota", "s")).Should().Equal("set");
    }

    [Fact]
    public async Task The_zsh_script_uses_the_same_directive_and_an_unknown_shell_is_a_usage_error()
    {
        var zsh = await CliRun.RunAsync("completion", "zsh");
        zsh.Exit.Should().Be(0);
        zsh.Stdout.Should().StartWith("#compdef mezzo").And.Contain("[suggest:${CURSOR}]").And.Contain("compdef _mezzo_complete mezzo");

        var fish = await CliRun.RunAsync("completion", "fish");
        fish.Exit.Should().Be(2);
        fish.Stderr.Should().Contain("fish");
    }
}

using System.CommandLine;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>mezzo completion bash|zsh</c>: a script that asks mezzo itself for completions through System.CommandLine's
/// <c>[suggest:POSITION] "command line"</c> directive (the protocol dotnet-suggest uses), so verbs, flags and their
/// values complete without installing dotnet-suggest.
/// </summary>
public static class CompletionCommand
{
    public const string Bash = """
        # mezzo bash completion. Load with: source <(mezzo completion bash)
        _mezzo_complete() {
            local IFS=$'\n'
            local candidates
            candidates=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=($(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _mezzo_complete mezzo

        """;

    public const string Zsh = """
        #compdef mezzo
        # mezzo zsh completion. Load with: source <(mezzo completion zsh)  (after compinit)
        _mezzo_complete() {
            local -a candidates
            candidates=("${(@f)$("${words[1]}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
            compadd -- "${candidates[@]}"
        }
        compdef _mezzo_complete mezzo

        """;

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script: source <(mezzo completion bash)") { shell };
        command.SetAction(parsed =>
        {
            Console.Out.Write(parsed.GetValue(shell) == "zsh" ? Zsh : Bash);
            return 0;
        });
        return command;
    }
}

using AwesomeAssertions;
using Mezzo.Agent.Executors;

namespace Mezzo.Agent.Tests.Executors;

public sealed class ExecutorTokensTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("mezzo-tokens-").FullName;

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    [Fact]
    public void A_token_names_its_executor_and_stays_valid_for_the_same_agent_after_a_restart()
    {
        var token = ExecutorTokens.LoadOrCreate(_workDir).Issue("fw-1", "exec-1", "c-1");

        // A restarted agent loads the key it made: executors it recovers keep the tokens they were started with.
        var user = ExecutorTokens.LoadOrCreate(_workDir).Validate(token);

        user.Should().NotBeNull();
        ExecutorTokens.Named(user!).Should().Be(("fw-1", "exec-1"));
        user!.FindFirst(ExecutorTokens.ContainerClaim)!.Value.Should().Be("c-1");
        user.Identity!.AuthenticationType.Should().Be("Bearer");
        token.Should().NotContain("exec-1", "claims are base64url in the token, not plain text");
    }

    [Fact]
    public void The_key_file_is_readable_by_its_owner_only()
    {
        ExecutorTokens.LoadOrCreate(_workDir);

        File.GetUnixFileMode(ExecutorTokens.KeyPath(_workDir)).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public void Tokens_of_another_agent_forged_or_garbled_are_refused()
    {
        var tokens = ExecutorTokens.LoadOrCreate(_workDir);
        using var other = new TempWorkDir();
        var foreign = ExecutorTokens.LoadOrCreate(other.Path).Issue("fw-1", "exec-1", "c-1");
        var valid = tokens.Issue("fw-1", "exec-1", "c-1");
        var parts = valid.Split('.');

        tokens.Validate(foreign).Should().BeNull("another agent's key signed it");
        tokens.Validate($"{parts[0]}.{parts[1]}x.{parts[2]}").Should().BeNull();
        tokens.Validate($"{parts[0]}.{parts[1]}.").Should().BeNull("an unsigned token is never accepted");
        tokens.Validate("").Should().BeNull();
        tokens.Validate("a.b.c").Should().BeNull();
    }

    [Fact]
    public void A_token_without_the_executor_claims_is_refused()
    {
        var tokens = ExecutorTokens.LoadOrCreate(_workDir);

        tokens.Validate(tokens.Issue("", "exec-1", "c-1")).Should().BeNull();
        tokens.Validate(tokens.Issue("fw-1", "", "c-1")).Should().BeNull();
    }

    [Fact]
    public void A_key_file_others_may_read_or_that_is_not_a_key_stops_the_agent_with_a_message_naming_it()
    {
        ExecutorTokens.LoadOrCreate(_workDir);
        var path = ExecutorTokens.KeyPath(_workDir);

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var open = () => ExecutorTokens.LoadOrCreate(_workDir);
        open.Should().Throw<IOException>().WithMessage($"*{path}*chmod 600*");

        File.WriteAllText(path, "not base64!");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        open.Should().Throw<IOException>().WithMessage($"*'{path}' is not base64*");

        File.WriteAllText(path, Convert.ToBase64String(new byte[8]));
        open.Should().Throw<IOException>().WithMessage("*too short*");
    }

    private sealed class TempWorkDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mezzo-tokens-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

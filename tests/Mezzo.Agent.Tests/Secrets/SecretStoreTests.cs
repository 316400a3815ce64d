using AwesomeAssertions;
using System.Text;
using Mezzo.Agent.Secrets;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Secrets;

/// <summary>The agent's resolution of environment secrets: VALUE data, REFERENCE files in --secrets-dir, and every refusal.</summary>
public sealed class SecretStoreTests : IDisposable
{
    private const string Value = "s3cr3t-value";
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-secrets-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("mezzo-secrets-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private string Write(string name, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static Secret Reference(string name, string? key = null) =>
        new() { Type = SecretType.REFERENCE, Reference = new SecretReference { Name = name, Key = key } };

    private static CommandInfo Command(params EnvironmentVariable[] variables) =>
        new() { Value = "true", Environment = new EnvironmentInfo { Variables = [.. variables] } };

    private static EnvironmentVariable SecretVariable(string name, Secret secret) =>
        new() { Name = name, Type = EnvironmentVariableType.SECRET, Secret = secret };

    [Fact]
    public void A_value_secret_is_its_data()
    {
        var store = new SecretStore(null);

        store.Resolve("X", new Secret { Type = SecretType.VALUE, Value = new SecretValue { Data = Encoding.UTF8.GetBytes(Value) } }).Should().Be(Value);
    }

    [Fact]
    public void A_reference_without_key_is_the_whole_file_minus_one_trailing_newline()
    {
        Write("team/db-password", Value + "\n");
        Write("crlf", Value + "\r\n");
        Write("two-lines", "a\nb\n\n");
        var store = new SecretStore(_dir);

        store.Resolve("X", Reference("team/db-password")).Should().Be(Value);
        store.Resolve("X", Reference("crlf")).Should().Be(Value);
        store.Resolve("X", Reference("two-lines")).Should().Be("a\nb\n");
    }

    [Fact]
    public void A_reference_with_a_key_picks_a_member_of_the_json_object()
    {
        Write("db.json", $$"""{"username":"app","password":"{{Value}}","port":5432}""");
        var store = new SecretStore(_dir);

        store.Resolve("X", Reference("db.json", "password")).Should().Be(Value);
        store.Resolve("X", Reference("db.json", "port")).Should().Be("5432");
    }

    [Fact]
    public void Variables_mixes_plain_values_and_resolved_secrets_and_can_leave_secrets_out()
    {
        Write("token", Value);
        var store = new SecretStore(_dir);
        var command = Command(new EnvironmentVariable { Name = "PLAIN", Value = "p" }, SecretVariable("TOKEN", Reference("token")));

        store.Variables(command).Should().Equal(("PLAIN", "p"), ("TOKEN", Value));
        store.Variables(command, resolveSecrets: false).Should().Equal(("PLAIN", "p"));
    }

    public static TheoryData<string, string?, string> Refusals => new()
    {
        { "../outside", null, "secret reference '../outside' of environment variable 'PW': the name must be a relative path inside the secret store" },
        { "/etc/passwd", null, "secret reference '/etc/passwd' of environment variable 'PW': the name must be a relative path inside the secret store" },
        { "a//b", null, "the name must be a relative path" },
        { "missing", null, "secret reference 'missing' of environment variable 'PW': no such secret in the secret store" },
        { "nodir/missing", null, "no such secret in the secret store" },
        { "open", null, "secret reference 'open' of environment variable 'PW': the file is readable or writable by every user" },
        { "plain", "password", "secret reference 'plain' (key 'password') of environment variable 'PW': the secret is not valid JSON" },
        { "array.json", "password", "the secret is not a JSON object" },
        { "db.json", "nope", "secret reference 'db.json' (key 'nope') of environment variable 'PW': the secret has no key 'nope'" },
        { "escape", null, "secret reference 'escape' of environment variable 'PW': the file is a link out of the secret store" },
        { "binary", null, "is not UTF-8 text" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void An_unresolvable_reference_fails_naming_the_reference_and_never_the_secret(string name, string? key, string expected)
    {
        Write("open", Value, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Write("plain", Value);
        Write("array.json", $"[\"{Value}\"]");
        Write("db.json", $$"""{"password":"{{Value}}"}""");
        var outside = Path.Combine(_outside, "target");
        File.WriteAllText(outside, Value);
        File.SetUnixFileMode(outside, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(Path.Combine(_dir, "escape"), outside);
        File.WriteAllBytes(Path.Combine(_dir, "binary"), [0xff, 0xfe, 0x41]);
        File.SetUnixFileMode(Path.Combine(_dir, "binary"), UnixFileMode.UserRead);
        var store = new SecretStore(_dir);

        var act = () => store.Resolve("PW", Reference(name, key));

        var error = act.Should().Throw<SecretResolutionException>().Which;
        error.Message.Should().Contain(expected);
        error.Message.Should().NotContain(Value);
    }

    [Fact]
    public void A_link_inside_the_store_is_followed()
    {
        Write("real", Value);
        File.CreateSymbolicLink(Path.Combine(_dir, "alias"), Path.Combine(_dir, "real"));

        new SecretStore(_dir).Resolve("X", Reference("alias")).Should().Be(Value);
    }

    [Fact]
    public void A_reference_without_a_store_fails_naming_the_flag()
    {
        var act = () => new SecretStore(null).Resolve("PW", Reference("db"));

        act.Should().Throw<SecretResolutionException>().WithMessage("secret reference 'db' of environment variable 'PW' cannot be resolved: the agent has no secret store (--secrets-dir)");
    }

    [Theory]
    [InlineData(SecretType.UNKNOWN, "the secret of environment variable 'PW' has type UNKNOWN: only VALUE and REFERENCE are supported")]
    [InlineData(SecretType.VALUE, "the VALUE secret of environment variable 'PW' has no data")]
    [InlineData(SecretType.REFERENCE, "the REFERENCE secret of environment variable 'PW' has no reference")]
    public void A_malformed_secret_fails(SecretType type, string expected)
    {
        var act = () => new SecretStore(_dir).Resolve("PW", new Secret { Type = type });

        act.Should().Throw<SecretResolutionException>().WithMessage(expected);
    }

    [Fact]
    public void A_secret_variable_without_a_secret_and_a_value_secret_with_a_nul_fail()
    {
        var store = new SecretStore(_dir);

        var missing = () => store.Variables(Command(new EnvironmentVariable { Name = "PW", Type = EnvironmentVariableType.SECRET })).ToList();
        var nul = () => store.Resolve("PW", new Secret { Type = SecretType.VALUE, Value = new SecretValue { Data = [0x41, 0, 0x42] } });

        missing.Should().Throw<SecretResolutionException>().WithMessage("environment variable 'PW' is of type SECRET but has no secret");
        nul.Should().Throw<SecretResolutionException>().WithMessage("*contains a NUL character*");
    }
}

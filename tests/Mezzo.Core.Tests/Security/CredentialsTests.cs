using AwesomeAssertions;
using Mezzo.Core.Security;
using Xunit;

namespace Mezzo.Core.Tests.Security;

public sealed class CredentialsTests
{
    [Fact]
    public void Mesos_json_format_parses()
    {
        var credentials = Credentials.ParseMany("""{"credentials": [{"principal": "ops", "secret": "s3cret"}, {"principal": "team-a", "secret": "x y"}]}""");

        credentials.Should().Equal(new Credential("ops", "s3cret"), new Credential("team-a", "x y"));
    }

    [Fact]
    public void Text_format_skips_blank_lines_and_comments()
    {
        var credentials = Credentials.ParseMany("# who may log in\nops s3cret\n\n  team-a\tpw  \n");

        credentials.Should().Equal(new Credential("ops", "s3cret"), new Credential("team-a", "pw"));
    }

    [Fact]
    public void A_single_credential_file_in_either_format()
    {
        Credentials.ParseOne("""{"principal": "agent", "secret": "pw"}""").Should().Be(new Credential("agent", "pw"));
        Credentials.ParseOne("agent pw\n").Should().Be(new Credential("agent", "pw"));
    }

    [Fact]
    public void The_secret_never_shows_in_to_string()
    {
        var text = new Credential("ops", "hunter2").ToString();
        text.Should().Contain("ops").And.NotContain("hunter2");
    }

    [Theory]
    [InlineData("", "The credentials file names no credentials")]
    [InlineData("# only a comment\n", "The credentials file names no credentials")]
    [InlineData("{", "The credentials file is not valid JSON")]
    [InlineData("""{"credentials": []}""", "The credentials file names no credentials")]
    [InlineData("""{"creds": []}""", "The credentials file must have a 'credentials' array")]
    [InlineData("""{"credentials": [1]}""", "credentials[0] must be an object with 'principal' and 'secret'")]
    [InlineData("""{"credentials": [{"principal": 1, "secret": "x"}]}""", "credentials[0].principal must be a string")]
    [InlineData("""{"credentials": [{"principal": "a", "secret": 2}]}""", "credentials[0].secret must be a string")]
    [InlineData("""{"credentials": [{"principal": "a", "secret": "x", "role": "r"}]}""", "credentials[0] has an unknown field 'role'")]
    [InlineData("""{"credentials": [{"secret": "x"}]}""", "credentials[0] has no principal")]
    [InlineData("""{"credentials": [{"principal": "a"}]}""", "credentials[0] (principal 'a') has no secret")]
    [InlineData("""{"credentials": [{"principal": "a:b", "secret": "x"}]}""", "principal 'a:b' may not contain ':' or control characters")]
    [InlineData("ops\n", "Line 1 of the credentials file must be 'principal secret' (1 words found)")]
    [InlineData("ok pw\nops a b\n", "Line 2 of the credentials file must be 'principal secret' (3 words found)")]
    [InlineData("ops a\nops b\n", "The credentials file names principal 'ops' more than once")]
    public void Bad_files_are_refused_naming_the_entry(string text, string message)
    {
        var act = () => Credentials.ParseMany(text);
        act.Should().Throw<FormatException>().Which.Message.Should().Contain(message);
    }

    [Fact]
    public void Errors_never_quote_a_secret()
    {
        var act = () => Credentials.ParseMany("""{"credentials": [{"principal": "a", "secret": "topsecret", "x": 1}]}""");
        act.Should().Throw<FormatException>().Which.Message.Should().NotContain("topsecret");
        var two = () => Credentials.ParseOne("a topsecret\nb othersecret\n");
        two.Should().Throw<FormatException>().Which.Message.Should().Be("A credential file must hold exactly one credential, not 2");
    }
}

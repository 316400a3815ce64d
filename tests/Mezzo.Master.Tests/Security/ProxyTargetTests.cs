using System.Net;
using Mezzo.Master.Http;

namespace Mezzo.Master.Tests.Security;

/// <summary>The framework proxy's limits on where a framework's <c>webui_url</c> may send it (SSRF).</summary>
public sealed class ProxyTargetTests
{
    [Theory]
    [InlineData(null, "no webui_url")]
    [InlineData("", "no webui_url")]
    [InlineData("ftp://10.0.0.1/ui", "not an absolute http(s) URL")]
    [InlineData("file:///etc/passwd", "not an absolute http(s) URL")]
    [InlineData("/relative/ui", "not an absolute http(s) URL")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local or metadata")]
    [InlineData("https://169.254.1.2:8443/", "link-local or metadata")]
    [InlineData("http://[fd00:ec2::254]/", "link-local or metadata")]
    [InlineData("http://[fe80::1]:8080/", "link-local or metadata")]
    [InlineData("http://[::ffff:169.254.169.254]/", "link-local or metadata")]
    public void Bad_webui_urls_are_refused_with_a_reason(string? url, string reason)
    {
        ProxyTargets.Problem(url, out var parsed).Should().Contain(reason);
        parsed.Should().BeNull();
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/")]
    [InlineData("https://services.example.com/ui")]
    [InlineData("http://10.1.2.3:4400")]
    [InlineData("http://[::1]:8080/")]
    public void Http_urls_elsewhere_are_allowed(string url)
    {
        ProxyTargets.Problem(url, out var parsed).Should().BeNull();
        parsed.Should().Be(new Uri(url));
    }

    [Theory]
    [InlineData("169.254.0.1", true)]
    [InlineData("169.255.0.1", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("fe80::abcd", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("fd00:ec2::253", false)]
    [InlineData("::ffff:169.254.3.4", true)]
    public void Forbidden_addresses(string address, bool forbidden) =>
        ProxyTargets.IsForbidden(IPAddress.Parse(address)).Should().Be(forbidden);
}

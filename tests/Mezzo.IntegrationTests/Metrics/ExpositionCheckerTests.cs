namespace Mezzo.IntegrationTests.Metrics;

/// <summary>The strict exposition reader must refuse what Prometheus (or promtool) would, or its pass means nothing.</summary>
public sealed class ExpositionCheckerTests
{
    private const string Valid = """
        # HELP m_requests_total Requests.
        # TYPE m_requests_total counter
        m_requests_total{method="GET",code="200"} 3
        m_requests_total{method="POST",code="500"} 1
        # HELP m_up Whether it is up.
        # TYPE m_up gauge
        m_up 1
        # HELP m_latency_seconds Latency.
        # TYPE m_latency_seconds histogram
        m_latency_seconds_sum{method="GET"} 0.5
        m_latency_seconds_count{method="GET"} 3
        m_latency_seconds_bucket{method="GET",le="0.1"} 1
        m_latency_seconds_bucket{method="GET",le="1"} 3
        m_latency_seconds_bucket{method="GET",le="+Inf"} 3
        # HELP m_text A label with escapes.
        # TYPE m_text gauge
        m_text{v="a\\b\"c\nd"} -2.5e-3

        """;

    [Fact]
    public void A_valid_exposition_is_read_with_its_families_and_samples()
    {
        var exposition = ExpositionChecker.Check(Valid);

        exposition.Families.Keys.Should().BeEquivalentTo(["m_requests_total", "m_up", "m_latency_seconds", "m_text"]);
        exposition.Samples["m_requests_total{method=\"GET\",code=\"200\"}"].Should().Be(3);
        exposition.Samples["m_text{v=\"a\\\\b\\\"c\\nd\"}"].Should().Be(-0.0025);
        exposition.QueryableNames.Should().Contain(["m_latency_seconds_bucket", "m_latency_seconds_sum", "m_latency_seconds_count", "m_up"]);
    }

    [Theory]
    [InlineData("m_up 1\n", "no TYPE")]
    [InlineData("# TYPE m_up gauge\nm_up 1\n", "no HELP")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up 1", "end with a newline")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\n# TYPE m_up gauge\nm_up 1\n", "a second TYPE")]
    [InlineData("# HELP m_up x\n# HELP m_up y\n# TYPE m_up gauge\nm_up 1\n", "a second HELP")]
    [InlineData("# HELP m_up x\n# TYPE m_up gaugey\nm_up 1\n", "unknown type")]
    [InlineData("# HELP 1m x\n# TYPE 1m gauge\n1m 1\n", "invalid metric name")]
    [InlineData("# HELP m-up x\n# TYPE m-up gauge\nm-up 1\n", "invalid metric name")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{1a=\"x\"} 1\n", "invalid label name")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{__a=\"x\"} 1\n", "invalid label name")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{a=\"x\",a=\"y\"} 1\n", "label a twice")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{a=x} 1\n", "not quoted")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{a=\"x\\t\"} 1\n", "invalid escape")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{a=\"x} 1\n", "unterminated")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up one\n", "not a number")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up 1 2 3\n", "value [timestamp]")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{a=\"1\"} 1\nm_up{a=\"1\"} 2\n", "appears twice")]
    [InlineData("# HELP m_up x\n# TYPE m_up gauge\nm_up{a=\"1\",b=\"2\"} 1\nm_up{b=\"2\",a=\"1\"} 2\n", "appears twice")]
    [InlineData("# HELP m_a x\n# TYPE m_a gauge\nm_a 1\n# HELP m_b x\n# TYPE m_b gauge\nm_b 1\nm_a 2\n", "contiguous")]
    [InlineData("# HELP m_a x\n# TYPE m_a gauge\nm_a 1\n# HELP m_b x\n# TYPE m_b gauge\nm_b 1\n# HELP m_a y\n", "after its samples")]
    [InlineData("# HELP m_requests x\n# TYPE m_requests counter\nm_requests 1\n", "does not end in _total")]
    [InlineData("# HELP m_requests_total x\n# TYPE m_requests_total counter\nm_requests_total -1\n", "counter m_requests_total is -1")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket{le=\"1\"} 2\nm_h_bucket{le=\"2\"} 1\nm_h_bucket{le=\"+Inf\"} 2\nm_h_sum 1\nm_h_count 2\n", "below the previous bucket")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket{le=\"2\"} 1\nm_h_bucket{le=\"1\"} 1\nm_h_bucket{le=\"+Inf\"} 1\nm_h_sum 1\nm_h_count 1\n", "does not ascend")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket{le=\"1\"} 1\nm_h_sum 1\nm_h_count 1\n", "no le=\"+Inf\" bucket")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket{le=\"1\"} 1\nm_h_bucket{le=\"+Inf\"} 2\nm_h_sum 1\nm_h_count 1\n", "_count 1 is not the +Inf bucket's 2")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket{le=\"+Inf\"} 1\nm_h_sum 1\n", "_count missing")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket{le=\"+Inf\"} 1\nm_h_count 1\n", "has no _sum")]
    [InlineData("# HELP m_h x\n# TYPE m_h histogram\nm_h_bucket 1\nm_h_sum 1\nm_h_count 1\n", "without le")]
    [InlineData("# HELP m_up x\n", "a HELP but no TYPE")]
    public void Invalid_expositions_are_refused_naming_the_problem(string text, string reason)
    {
        var check = () => ExpositionChecker.Check(text);

        check.Should().Throw<FormatException>().WithMessage($"*{reason}*");
    }
}

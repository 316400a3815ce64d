using AwesomeAssertions;
using Mezzo.Agent.Isolation;

namespace Mezzo.Agent.Tests.Isolation;

/// <summary>du -s -x semantics on the real file system: allocated blocks, symlinks not followed, hard links once.</summary>
public sealed class DiskUsageTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("mezzo-du-");
    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("mezzo-du-outside-");

    public void Dispose()
    {
        _root.Delete(recursive: true);
        _outside.Delete(recursive: true);
    }

    private string In(string name) => Path.Combine(_root.FullName, name);

    private static long Allocated(string path)
    {
        // du's own answer, for comparison: allocated KiB of the path alone.
        using var du = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("du", ["-s", "-x", "-B1", path]) { RedirectStandardOutput = true })!;
        var output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Counts_written_data_and_agrees_with_du()
    {
        File.WriteAllBytes(In("data"), new byte[3 * 1024 * 1024 + 5]);
        Directory.CreateDirectory(In("sub/deeper"));
        File.WriteAllBytes(In("sub/deeper/more"), new byte[100_000]);

        var used = DiskUsage.Measure(_root.FullName);

        used.Should().BeGreaterThanOrEqualTo(3 * 1024 * 1024 + 100_000);
        used.Should().Be(Allocated(_root.FullName));
    }

    [Fact]
    public void A_sparse_file_counts_only_what_it_allocates()
    {
        using (var sparse = File.Create(In("sparse")))
        {
            sparse.SetLength(1L << 30);
        }

        DiskUsage.Measure(_root.FullName).Should().BeLessThan(1024 * 1024);
    }

    [Fact]
    public void A_symlink_to_a_big_file_elsewhere_counts_as_the_link_only()
    {
        File.WriteAllBytes(Path.Combine(_outside.FullName, "big"), new byte[4 * 1024 * 1024]);
        File.CreateSymbolicLink(In("link"), Path.Combine(_outside.FullName, "big"));
        Directory.CreateSymbolicLink(In("dirlink"), _outside.FullName);

        DiskUsage.Measure(_root.FullName).Should().BeLessThan(1024 * 1024);
    }

    [Fact]
    public void A_file_with_two_hard_links_inside_counts_once()
    {
        File.WriteAllBytes(In("one"), new byte[2 * 1024 * 1024]);
        var single = DiskUsage.Measure(_root.FullName);
        Assert.Equal(0, TestNative.link(In("one"), In("two")));

        DiskUsage.Measure(_root.FullName).Should().Be(single);
    }

    [Fact]
    public void A_missing_path_measures_zero_and_a_file_measures_itself()
    {
        DiskUsage.Measure(In("nothing-here")).Should().Be(0);
        File.WriteAllBytes(In("alone"), new byte[8192]);
        DiskUsage.Measure(In("alone")).Should().Be(Allocated(In("alone")));
    }

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(1000, "1000B")]
    [InlineData(1024, "1KB")]
    [InlineData(1536 * 1024, "1536KB")]
    [InlineData(10L * 1024 * 1024, "10MB")]
    [InlineData(3L << 30, "3GB")]
    [InlineData(2L << 40, "2TB")]
    public void Formats_bytes_as_Mesos_does(long bytes, string expected) => DiskUsage.Format(bytes).Should().Be(expected);
}

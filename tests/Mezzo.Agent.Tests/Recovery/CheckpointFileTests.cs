using System.Diagnostics;
using System.Text;
using AwesomeAssertions;
using Mezzo.Agent.Recovery;

namespace Mezzo.Agent.Tests.Recovery;

public sealed class CheckpointFileTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mezzo-checkpoint-");

    private string File1 => Path.Join(_directory.FullName, "task");

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_checkpoint_reads_back_exactly_and_replaces_the_previous_one(bool durable)
    {
        CheckpointFile.Write(File1, "first"u8, durable);
        CheckpointFile.Write(File1, "second, longer"u8, durable);

        Encoding.UTF8.GetString(CheckpointFile.Read(File1)!).Should().Be("second, longer");
        File.Exists(File1 + ".tmp").Should().BeFalse();
    }

    [Fact]
    public void A_missing_checkpoint_is_null_not_an_error() => CheckpointFile.Read(File1).Should().BeNull();

    [Fact]
    public void A_truncated_checkpoint_is_reported_as_such()
    {
        CheckpointFile.Write(File1, "{\"state\":\"TASK_RUNNING\"}"u8);
        var bytes = File.ReadAllBytes(File1);
        File.WriteAllBytes(File1, bytes[..^5]);

        var read = () => CheckpointFile.Read(File1);

        read.Should().Throw<CheckpointCorruptException>().WithMessage($"*{File1}*truncated*").Which.Path.Should().Be(File1);
    }

    [Fact]
    public void A_changed_byte_fails_the_checksum()
    {
        CheckpointFile.Write(File1, "{\"state\":\"TASK_RUNNING\"}"u8);
        var bytes = File.ReadAllBytes(File1);
        bytes[^3] ^= 0x20;
        File.WriteAllBytes(File1, bytes);

        ((Action)(() => CheckpointFile.Read(File1))).Should().Throw<CheckpointCorruptException>().WithMessage("*checksum mismatch*");
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"state\":\"TASK_RUNNING\"}")]
    [InlineData("mezzo-checkpoint 1 x y\nbody")]
    [InlineData("mezzo-checkpoint 2 4 abcd\nbody")]
    public void A_file_that_is_not_a_checkpoint_is_reported(string content)
    {
        File.WriteAllText(File1, content);

        ((Action)(() => CheckpointFile.Read(File1))).Should().Throw<CheckpointCorruptException>();
    }

    [Fact]
    public void On_a_full_disk_the_write_fails_clearly_and_the_previous_checkpoint_stays_whole()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "Needs root to mount a tmpfs.");
        var mount = Path.Join(_directory.FullName, "tmpfs");
        Directory.CreateDirectory(mount);
        Run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount);
        try
        {
            var file = Path.Join(mount, "task");
            CheckpointFile.Write(file, "before the disk filled"u8);
            var filler = Path.Join(mount, "filler");
            using (var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 1))
            {
                try
                {
                    while (true)
                    {
                        stream.WriteByte(0);
                        stream.Flush();
                    }
                }
                catch (IOException)
                {
                    // Full to the last byte.
                }
            }

            var write = () => CheckpointFile.Write(file, new byte[64 * 1024]);

            write.Should().Throw<CheckpointWriteException>().WithMessage($"*{file}*No space left on device*");
            Encoding.UTF8.GetString(CheckpointFile.Read(file)!).Should().Be("before the disk filled");
            File.Exists(file + ".tmp").Should().BeFalse("a failed write leaves no half file behind");

            File.Delete(filler);
            CheckpointFile.Write(file, "after space freed"u8);
            Encoding.UTF8.GetString(CheckpointFile.Read(file)!).Should().Be("after space freed");
        }
        finally
        {
            Run("umount", "--lazy", mount);
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        process.WaitForExit();
        process.ExitCode.Should().Be(0, $"{program} {string.Join(' ', args)}");
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;

namespace Mezzo.Fuzz.Tests.Harness;

/// <summary>
/// Runs one parser over its kept corpus and then over inputs drawn from an FsCheck generator. Each input must either
/// parse or fail with the parser's documented exception (with a message), within a time and an allocation bound.
/// MEZZO_FUZZ_ITERATIONS sets how many generated inputs per parser (default <see cref="DefaultIterations"/>, which
/// keeps the whole project near 30 s on 2 cores); MEZZO_FUZZ_SEED replays a run. A failing input is written to
/// TestResults/fuzz-crashers/&lt;parser&gt;/ so it can be copied into tests/Fuzz/corpus/&lt;parser&gt;/.
/// </summary>
public static class Fuzzer
{
    public const int DefaultIterations = 300;

    /// <summary>No parser here may take longer than this on one input, however hostile (a hang is a failure). Generous:
    /// the honest inputs take milliseconds, and CI shares its 2 cores with every other test project.</summary>
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);

    public static int Iterations { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("MEZZO_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : DefaultIterations;

    /// <summary>The run's seed: given, or fresh each run so CI keeps exploring (the failure message prints it).</summary>
    public static ulong Seed { get; } =
        ulong.TryParse(Environment.GetEnvironmentVariable("MEZZO_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : (ulong)Random.Shared.NextInt64();

    public static string CorpusDirectory(string parser) => Path.Join(AppContext.BaseDirectory, "corpus", parser);

    /// <summary>The kept inputs of <paramref name="parser"/>: valid samples and past crashers.</summary>
    public static IReadOnlyList<byte[]> Corpus(string parser, bool optional = false)
    {
        var directory = CorpusDirectory(parser);
        if (optional && !Directory.Exists(directory))
        {
            return [];
        }

        if (!Directory.Exists(directory))
        {
            throw new InvalidOperationException($"No corpus at '{directory}': add seed files to tests/Fuzz/corpus/{parser}/");
        }

        var files = Directory.GetFiles(directory).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new InvalidOperationException($"The corpus of '{parser}' is empty");
        }

        return [.. files.Select(File.ReadAllBytes)];
    }

    /// <summary>The generated inputs of this run: <see cref="Iterations"/> samples of <paramref name="gen"/>, each from
    /// its own seed so one failing input is reproduced alone.</summary>
    public static IEnumerable<(ulong Seed, T Input)> Samples<T>(Gen<T> gen, int? count = null)
    {
        for (var i = 0; i < (count ?? Iterations); i++)
        {
            var seed = unchecked(Seed + ((ulong)i * 0x9E3779B97F4A7C15UL));
            yield return (seed, gen.Sample(50, new Rnd(seed), 1)[0]);
        }
    }

    /// <summary>
    /// Runs a synchronous parser over the corpus and the generated inputs. <paramref name="documented"/> says which
    /// exceptions the parser promises; anything else, a run over <see cref="TimeBound"/>, or an allocation beyond
    /// <paramref name="maxAllocatedBytes"/> (of the input's length) fails with the input saved.
    /// </summary>
    public static void Run(string parser, Gen<byte[]> gen, Action<byte[]> parse, Func<Exception, bool> documented, Func<int, long>? maxAllocatedBytes = null) =>
        Run(parser, Corpus(parser), gen, parse, documented, maxAllocatedBytes);

    /// <summary>As above, replaying <paramref name="replay"/> (seeds derived at run time, e.g. protobuf encodings of the
    /// JSON corpus) instead of the corpus directory.</summary>
    public static void Run(string parser, IReadOnlyList<byte[]> replay, Gen<byte[]> gen, Action<byte[]> parse, Func<Exception, bool> documented, Func<int, long>? maxAllocatedBytes = null)
    {
        // 16 MiB plus 64 bytes per input byte: room for any honest parse, nowhere near what a forged length asks for.
        var limit = maxAllocatedBytes ?? (length => (16L * 1024 * 1024) + (length * 64L));
        foreach (var input in replay)
        {
            Check(parser, "corpus", input, parse, documented, limit);
        }

        foreach (var (seed, input) in Samples(gen))
        {
            Check(parser, seed.ToString(CultureInfo.InvariantCulture), input, parse, documented, limit);
        }
    }

    /// <summary>As <see cref="Run"/>, for parsers that do I/O (archives): half the iterations, as each input is
    /// written to disk and extracted; no allocation bound (the work hops threads).</summary>
    public static async Task RunAsync(string parser, Gen<byte[]> gen, Func<byte[], Task> parse, Func<Exception, bool> documented)
    {
        foreach (var input in Corpus(parser))
        {
            await CheckAsync(parser, "corpus", input, parse, documented);
        }

        foreach (var (seed, input) in Samples(gen, Math.Max(1, Iterations / 2)))
        {
            await CheckAsync(parser, seed.ToString(CultureInfo.InvariantCulture), input, parse, documented);
        }
    }

    private static void Check(string parser, string origin, byte[] input, Action<byte[]> parse, Func<Exception, bool> documented, Func<int, long> limit)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            parse(input);
        }
        catch (Exception ex) when (documented(ex) && !string.IsNullOrWhiteSpace(ex.Message))
        {
        }
        catch (Exception ex)
        {
            throw Failure(parser, origin, input, $"threw an undocumented {ex.GetType().Name}: {ex}");
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (clock.Elapsed > TimeBound)
        {
            throw Failure(parser, origin, input, $"took {clock.Elapsed.TotalSeconds:F1} s (bound {TimeBound.TotalSeconds} s)");
        }

        if (allocated > limit(input.Length))
        {
            throw Failure(parser, origin, input, $"allocated {allocated:N0} bytes for a {input.Length:N0}-byte input (bound {limit(input.Length):N0})");
        }
    }

    private static async Task CheckAsync(string parser, string origin, byte[] input, Func<byte[], Task> parse, Func<Exception, bool> documented)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await parse(input).WaitAsync(TimeBound * 4);
        }
        catch (TimeoutException)
        {
            throw Failure(parser, origin, input, $"did not finish in {(TimeBound * 4).TotalSeconds} s");
        }
        catch (Exception ex) when (documented(ex) && !string.IsNullOrWhiteSpace(ex.Message))
        {
        }
        catch (Exception ex) when (ex is not FuzzFailure)
        {
            throw Failure(parser, origin, input, $"threw an undocumented {ex.GetType().Name}: {ex}");
        }

        if (clock.Elapsed > TimeBound * 4)
        {
            throw Failure(parser, origin, input, $"took {clock.Elapsed.TotalSeconds:F1} s");
        }
    }

    /// <summary>Fails the property for <paramref name="input"/> (used by properties that check more than exceptions).</summary>
    public static FuzzFailure Failure(string parser, string origin, byte[] input, string what)
    {
        var directory = Path.Join(AppContext.BaseDirectory, "TestResults", "fuzz-crashers", parser);
        Directory.CreateDirectory(directory);
        var file = Path.Join(directory, Convert.ToHexStringLower(SHA256.HashData(input))[..16]);
        File.WriteAllBytes(file, input);
        var replay = origin == "corpus" ? "a corpus file" : $"MEZZO_FUZZ_SEED={Seed} (input seed {origin})";
        return new FuzzFailure($"{parser}: {what}\nInput ({input.Length} bytes, {replay}) saved to {file}; " +
            $"once fixed, copy it into tests/Fuzz/corpus/{parser}/.\nInput as text: {Preview(input)}");
    }

    private static string Preview(byte[] input)
    {
        var text = System.Text.Encoding.UTF8.GetString(input.AsSpan(0, Math.Min(input.Length, 400)));
        return new string([.. text.Select(c => char.IsControl(c) && c != '\n' ? '·' : c)]);
    }
}

public sealed class FuzzFailure(string message) : Exception(message);

using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Mezzo.Fuzz.Tests.Harness;

/// <summary>
/// Structured-but-broken inputs: a valid sample from the corpus with one to five mutations applied (truncation, bit
/// flips, interesting bytes, tokens from a dictionary of hostile values, repeated chunks, deep nesting, splices with
/// another sample). The mutations are picked by FsCheck; a mutation's positions come from a generated seed.
/// </summary>
public static class Mutations
{
    /// <summary>Values that break parsers of text formats: huge and negative numbers, NaN, unicode, nesting, NUL.</summary>
    public static readonly string[] TextTokens =
    [
        "NaN", "-NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "-1", "-0", "0", "-0.0001", "0.0000001",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "2147483648", "4294967296", "1.7976931348623157E+309", "99999999999999999999999999999999999999",
        "null", "true", "false", "\"\"", "{}", "[]", "[[[[[[[[", "]]]]", "{\"a\":", "}}}}", ",", ":", "\"", "\\", "\\u0000",
        "\\ud800", "\\udc00\\ud800", "\u0000", "\u202e", "\uFEFF", "𝄞", "é", "\u00ff", "'", "\n", "\r\n", "\t", " ",
        "../", "../../../../etc/passwd", "/", "//", "%2e%2e%2f", "*", "(", ")", "[", "]", "{", "}", ";", "-", "R", "P", "T", "Z",
        "+99:99", "9999-99-99T99:99:99Z", "PT", "P0D", "R-1", "R99999999999999999999", "ports:[0-18446744073709551615]",
    ];

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0xc0, 0xed, (byte)'"', (byte)'{', (byte)'[', (byte)':', (byte)',', (byte)'\\', (byte)'0', (byte)'9', (byte)'-', (byte)'\n'];

    private enum Kind
    {
        Truncate,
        FlipBit,
        SetByte,
        InsertToken,
        ReplaceValue,
        RepeatChunk,
        DeleteChunk,
        Nest,
        Splice,
        AppendGarbage,
    }

    /// <summary>A corpus sample, mutated. <paramref name="tokens"/> are format-specific values to splice in.</summary>
    public static Gen<byte[]> Of(IReadOnlyList<byte[]> corpus, IReadOnlyList<string>? tokens = null) =>
        OfBytes(corpus, [.. (tokens ?? TextTokens).Select(Encoding.UTF8.GetBytes)]);

    /// <summary>Binary tokens for binary formats: overlong varints, forged lengths, stray tags.</summary>
    public static readonly byte[][] ProtobufTokens =
    [
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
        [0x0a, 0x80, 0x80, 0x80, 0x80, 0x08],
        [0x0a, 0x05, 0xff, 0xfe, 0xfd, 0x00, 0xc0],
        [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        [0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f],
        [0x0d, 0x00, 0x00, 0xc0, 0x7f],
        [0x00], [0x07], [0x0b], [0x0c], [0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00],
        [0x12, 0x00], [0x1a, 0x02, 0x0a, 0x00], [0x0a, 0x02, 0x0a, 0x02],
    ];

    public static Gen<byte[]> OfBytes(IReadOnlyList<byte[]> corpus, byte[][] dictionary)
    {
        var kind = Gen.Frequency(
            (3, Gen.Constant(Kind.Truncate)),
            (4, Gen.Constant(Kind.FlipBit)),
            (3, Gen.Constant(Kind.SetByte)),
            (6, Gen.Constant(Kind.InsertToken)),
            (6, Gen.Constant(Kind.ReplaceValue)),
            (2, Gen.Constant(Kind.RepeatChunk)),
            (2, Gen.Constant(Kind.DeleteChunk)),
            (1, Gen.Constant(Kind.Nest)),
            (2, Gen.Constant(Kind.Splice)),
            (1, Gen.Constant(Kind.AppendGarbage)));
        var step = kind.Zip(ArbMap.Default.GeneratorFor<int>().Select(i => i & int.MaxValue));
        var valid = Gen.Elements(corpus.ToArray());
        return valid.SelectMany(
            sample => Gen.Choose(1, 5).SelectMany(count => step.ArrayOf(count)),
            (sample, steps) => Apply(sample, steps, corpus, dictionary));
    }

    private static byte[] Apply(byte[] sample, (Kind Kind, int Seed)[] steps, IReadOnlyList<byte[]> corpus, byte[][] dictionary)
    {
        var bytes = new List<byte>(sample);
        foreach (var (kind, seed) in steps)
        {
            var random = new Random(seed);
            int At() => random.Next(0, bytes.Count + 1);
            switch (kind)
            {
                case Kind.Truncate:
                    var cut = At();
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    break;
                case Kind.FlipBit when bytes.Count > 0:
                    var flip = random.Next(bytes.Count);
                    bytes[flip] ^= (byte)(1 << random.Next(8));
                    break;
                case Kind.SetByte when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                    break;
                case Kind.InsertToken:
                    bytes.InsertRange(At(), dictionary[random.Next(dictionary.Length)]);
                    break;
                case Kind.ReplaceValue:
                    ReplaceValue(bytes, random, dictionary);
                    break;
                case Kind.RepeatChunk when bytes.Count > 0:
                    var start = random.Next(bytes.Count);
                    var chunk = bytes.GetRange(start, random.Next(1, Math.Min(64, bytes.Count - start) + 1));
                    var times = random.Next(2, 200);
                    for (var i = 0; i < times; i++)
                    {
                        bytes.InsertRange(start, chunk);
                    }

                    break;
                case Kind.DeleteChunk when bytes.Count > 0:
                    var from = random.Next(bytes.Count);
                    bytes.RemoveRange(from, random.Next(1, Math.Min(32, bytes.Count - from) + 1));
                    break;
                case Kind.Nest:
                    var depth = random.Next(2) == 0 ? random.Next(10, 100) : random.Next(1_000, 20_000);
                    var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                    var close = open == "[" ? "]" : "}";
                    var at = At();
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth))));
                    break;
                case Kind.Splice:
                    var other = corpus[random.Next(corpus.Count)];
                    var otherStart = random.Next(other.Length + 1);
                    var cutAt = At();
                    bytes.RemoveRange(cutAt, bytes.Count - cutAt);
                    bytes.AddRange(other.AsSpan(otherStart).ToArray());
                    break;
                case Kind.AppendGarbage:
                    var garbage = new byte[random.Next(1, 256)];
                    random.NextBytes(garbage);
                    bytes.AddRange(garbage);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Replaces the value after a ':' (JSON) or '=' with a token: a wrong type, a huge number, NaN.</summary>
    private static void ReplaceValue(List<byte> bytes, Random random, byte[][] dictionary)
    {
        var separators = new List<int>();
        for (var i = 0; i < bytes.Count; i++)
        {
            if (bytes[i] is (byte)':' or (byte)'=')
            {
                separators.Add(i);
            }
        }

        var token = dictionary[random.Next(dictionary.Length)];
        if (separators.Count == 0)
        {
            bytes.InsertRange(random.Next(bytes.Count + 1), token);
            return;
        }

        var start = separators[random.Next(separators.Count)] + 1;
        var end = start;
        var depth = 0;
        var inString = false;
        while (end < bytes.Count)
        {
            var b = bytes[end];
            if (inString)
            {
                inString = b != (byte)'"' || bytes[end - 1] == (byte)'\\';
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            else if (b is (byte)'{' or (byte)'[')
            {
                depth++;
            }
            else if (b is (byte)'}' or (byte)']')
            {
                if (depth == 0)
                {
                    break;
                }

                depth--;
            }
            else if (b is (byte)',' or (byte)';' && depth == 0)
            {
                break;
            }

            end++;
        }

        bytes.RemoveRange(start, end - start);
        bytes.InsertRange(start, token);
    }
}

/// <summary>Combinators FsCheck's fluent API lacks.</summary>
public static class Gens
{
    public static Gen<(T1, T2, T3)> Zip<T1, T2, T3>(Gen<T1> first, Gen<T2> second, Gen<T3> third) =>
        first.Zip(second).Zip(third).Select(t => (t.Item1.Item1, t.Item1.Item2, t.Item2));
}

using System.Text;
using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using Mezzo.Agent.Images;
using Mezzo.Core.Resources;
using Mezzo.Core.Security;
using Mezzo.Fuzz.Tests.Harness;
using Mezzo.Jobs.Schedules;
using Mezzo.Protocol.Chronos;
using NodaTime;

namespace Mezzo.Fuzz.Tests;

/// <summary>
/// The text formats of flags and fields: <c>--resources</c>, <c>--attributes</c>, Chronos's ISO 8601 schedules and
/// durations, image references, and the ACL and credentials files. Each parses or throws its documented
/// <see cref="FormatException"/> (or returns false with a reason), and what parses holds no negative, NaN or infinite value.
/// </summary>
public sealed class TextFuzzTests
{
    private const int Timeout = 120_000;

    private static readonly Instant Now = Instant.FromUtc(2026, 11, 25, 12, 0);

    [Fact(Timeout = Timeout)]
    public Task Resources_flag() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("resources");
        var gen = Gen.OneOf(Mutations.Of(corpus), ResourceText.Select(Encoding.UTF8.GetBytes));
        Fuzzer.Run("resources", corpus, gen, input =>
        {
            var resources = ResourceParser.Parse(Encoding.UTF8.GetString(input));
            foreach (var resource in resources)
            {
                if (resource.Scalar is { } scalar && (!double.IsFinite(scalar) || scalar < 0))
                {
                    throw Fuzzer.Failure("resources", "property", input, $"parsed to a scalar of {scalar}");
                }
            }

            _ = resources.ToString();
        }, ex => ex is ResourceParseException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Attributes_flag() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("attributes");
        var gen = Gen.OneOf(Mutations.Of(corpus), ResourceText.Select(Encoding.UTF8.GetBytes));
        Fuzzer.Run("attributes", corpus, gen, input =>
        {
            foreach (var attribute in AttributeParser.Parse(Encoding.UTF8.GetString(input)))
            {
                if (attribute.Scalar is { } scalar && !double.IsFinite(scalar))
                {
                    throw Fuzzer.Failure("attributes", "property", input, $"parsed to a scalar of {scalar}");
                }

                _ = attribute.ToString();
            }
        }, ex => ex is ResourceParseException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Iso8601_repeating_schedules() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("schedule");
        var gen = Gen.OneOf(Mutations.Of(corpus), ScheduleText.Select(Encoding.UTF8.GetBytes));
        Fuzzer.Run("schedule", corpus, gen, input =>
        {
            var lines = Encoding.UTF8.GetString(input).Split('\n', 2);
            var timeZone = lines.Length > 1 ? lines[1] : null;
            if (!RepeatingSchedule.TryParse(lines[0], timeZone, Now, out var schedule, out var error))
            {
                error.Should().NotBeNullOrWhiteSpace();
                FluentActions.Invoking(() => RepeatingSchedule.Parse(lines[0], timeZone, Now)).Should().Throw<FormatException>();
                return;
            }

            // The jobs engine evaluates occurrences of any schedule it accepted; it handles exactly these two failures
            // (a schedule that runs past year 9999), anything else would take the engine down.
            try
            {
                _ = schedule.FirstAtOrAfter(Now);
                _ = schedule.Occurrence(3);
                _ = schedule.FirstAtOrAfter(Now + Duration.FromDays(365 * 500));
            }
            catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
            {
            }
        }, ex => false);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Iso8601_durations() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("duration");
        var gen = Gen.OneOf(Mutations.Of(corpus), DurationText.Select(Encoding.UTF8.GetBytes));
        Fuzzer.Run("duration", corpus, gen, input =>
        {
            var text = Encoding.UTF8.GetString(input);
            if (IsoPeriod.TryParse(text, out var period, out var error))
            {
                // What Chronos prints back must read back as the same period.
                IsoPeriod.Parse(period.ToString()).Should().Be(period);
                _ = period.ApproximateLength;
            }
            else
            {
                error.Should().NotBeNullOrWhiteSpace();
            }
        }, ex => false);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Image_references() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("image-reference");
        Fuzzer.Run("image-reference", corpus, Mutations.Of(corpus), input =>
        {
            var reference = ImageReference.Parse(Encoding.UTF8.GetString(input), new Uri("https://registry-1.docker.io"));
            _ = reference.ToString();
        }, ex => ex is ImageException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Acls_file() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("acls");
        Fuzzer.Run("acls", corpus, Mutations.Of(corpus), input => Acls.Parse(Encoding.UTF8.GetString(input)), ex => ex is FormatException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Credentials_file() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("credentials");
        Fuzzer.Run("credentials", corpus, Mutations.Of(corpus), input =>
        {
            foreach (var credential in Credentials.ParseMany(Encoding.UTF8.GetString(input)))
            {
                credential.Principal.Should().NotBeNullOrEmpty();
                credential.Secret.Should().NotBeNullOrEmpty();
            }
        }, ex => ex is FormatException);
    }, TestContext.Current.CancellationToken);

    /// <summary>Resource text built from its grammar with hostile pieces: names, roles, scalars, ranges and sets.</summary>
    private static Gen<string> ResourceText
    {
        get
        {
            var name = Gen.Elements("cpus", "mem", "disk", "ports", "gpus", "", " ", "a b", "x:y", "é", "cpus(", "(", "𝄞");
            var role = Gen.Elements("", "(*)", "(web)", "(a/b)", "(..)", "(/a)", "(a//b)", "(-x)", "()", "(web", "(.)", "( )");
            var number = Gen.Elements("0", "1", "0.5", "-1", "-0", "NaN", "Infinity", "-Infinity", "1e308", "1e309", "0.0001", "0.0005",
                "9223372036854775807", "1e-320", "4.5e15", " 2 ", "0x10", "1,5", "");
            var bound = Gen.Elements("0", "1", "31000", "18446744073709551615", "18446744073709551616", "-1", "", " 5 ", "1.5", "a");
            var range = bound.Zip(bound, (a, b) => $"{a}-{b}");
            var ranges = range.ListOf().Select(r => "[" + string.Join(",", r) + "]");
            var set = Gen.Elements("a", "b", "", " ", "a", "{", "}", "é").ListOf().Select(items => "{" + string.Join(",", items) + "}");
            var value = Gen.OneOf(number, ranges, set, Gen.Elements("[", "{", "]", "}", "[1-2", "{a", "[1-2]]"));
            var entry = Gens.Zip(name, role, value).Select(t => $"{t.Item1}{t.Item2}:{t.Item3}");
            return entry.ListOf().Select(entries => string.Join(";", entries));
        }
    }

    private static Gen<string> DurationText
    {
        get
        {
            var number = Gen.Elements("0", "1", "30", "99999999999", "9223372036854775807", "9223372036854775808", "1.5", "1,123", "1.1234", "-1", "");
            var unit = Gen.Elements("Y", "M", "W", "D", "TH", "TM", "TS", "T", "H", "S", "");
            return Gen.Zip(number, unit).ListOf().Select(parts => "P" + string.Concat(parts.Select(p => p.Item1 + p.Item2)));
        }
    }

    private static Gen<string> ScheduleText
    {
        get
        {
            var repeat = Gen.Elements("R", "R0", "R1", "R5", "R9223372036854775807", "R9223372036854775808", "R-1", "", "r");
            var year = Gen.Elements("0000", "0001", "1970", "2026", "9998", "9999", "10000", "-001");
            var date = Gens.Zip(year, Gen.Elements("01", "02", "12", "13", "00"), Gen.Elements("01", "28", "29", "30", "31", "32"))
                .Select(t => $"{t.Item1}-{t.Item2}-{t.Item3}");
            var time = Gen.Elements("", "T00:00:00", "T23:59:59.999999999", "T24:00:00", "T02:30", "T12", "T25:61:61");
            var zone = Gen.Elements("", "Z", "+01:00", "-05:30", "+18:00", "+19:00", "+99", "-0000", "+14");
            var start = Gen.OneOf(Gen.Constant(""), Gens.Zip(date, time, zone).Select(t => t.Item1 + t.Item2 + t.Item3));
            var tz = Gen.Elements("", "\nUTC", "\nEurope/Berlin", "\nAmerica/Los_Angeles", "\nNope/Nowhere", "\n../../etc/localtime", "\nGMT+5", "\nEST5EDT");
            return Gens.Zip(repeat, start, DurationText).SelectMany(t => tz, (t, z) => $"{t.Item1}/{t.Item2}/{t.Item3}{z}");
        }
    }
}

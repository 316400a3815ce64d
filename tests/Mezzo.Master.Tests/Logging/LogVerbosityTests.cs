using Mezzo.Hosting.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Master.Tests.Logging;

/// <summary>The runtime verbosity (Mezzo.Hosting.Logging) inside a real logging pipeline: what reaches a provider.</summary>
public sealed class LogVerbosityTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLoggerProvider _provider = new();

    private (ServiceProvider Services, ILoggerFactory Loggers, LogVerbosity Verbosity) Build(LogLevel baseline = LogLevel.Information)
    {
        var services = new ServiceCollection();
        var verbosity = new LogVerbosity(_time);
        services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(baseline);
            logging.AddFilter("Microsoft", LogLevel.Warning);
            logging.AddProvider(_provider);
        });
        verbosity.AttachTo(services);
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<ILoggerFactory>(), verbosity);
    }

    [Fact]
    public void A_raised_level_lets_debug_through_to_loggers_made_before_it_and_its_end_stops_it_again()
    {
        var (services, loggers, verbosity) = Build();
        using var _ = services;
        var log = loggers.CreateLogger("Mezzo.Agent.AgentService");
        var framework = loggers.CreateLogger("Microsoft.AspNetCore.Routing");

        log.LogDebug("before");
        verbosity.Set(1, TimeSpan.FromSeconds(30));
        log.LogDebug("during");
        log.LogTrace("trace at level 1");
        framework.LogInformation("framework chatter");
        _time.Advance(TimeSpan.FromSeconds(29));
        log.LogDebug("still during");
        _time.Advance(TimeSpan.FromSeconds(1));
        log.LogDebug("after");
        log.LogInformation("info after");

        _provider.Entries.Select(e => e.Message).Should().Equal("during", "still during", "info after");
        verbosity.Level.Should().Be(0);
    }

    [Fact]
    public void Level_two_and_above_adds_trace()
    {
        var (services, loggers, verbosity) = Build();
        using var _ = services;
        var log = loggers.CreateLogger("Mezzo.Master");

        verbosity.Set(3, TimeSpan.FromMinutes(1));
        log.LogTrace("trace");

        _provider.Has(LogLevel.Trace, "trace").Should().BeTrue();
        verbosity.Minimum.Should().Be(LogLevel.Trace);
    }

    [Fact]
    public void A_process_configured_at_warning_goes_back_to_warning_not_to_information()
    {
        var (services, loggers, verbosity) = Build(LogLevel.Warning);
        using var _ = services;
        var log = loggers.CreateLogger("Mezzo.Master");

        log.LogInformation("hidden");
        verbosity.Set(1, TimeSpan.FromSeconds(5));
        log.LogInformation("shown");
        _time.Advance(TimeSpan.FromSeconds(5));
        log.LogInformation("hidden again");

        _provider.Entries.Select(e => e.Message).Should().Equal("shown");
        verbosity.Baseline.Should().Be(LogLevel.Warning);
    }

    [Fact]
    public void A_newer_level_outlives_the_older_ones_timer_and_reset_drops_it_at_once()
    {
        var verbosity = new LogVerbosity(_time);
        verbosity.Set(2, TimeSpan.FromSeconds(10));
        verbosity.Set(1, TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(10));
        verbosity.Level.Should().Be(1, "the first raise was replaced; its revert must not undo the second");
        verbosity.Reset();
        verbosity.Level.Should().Be(0);
        _time.Advance(TimeSpan.FromSeconds(60));
        verbosity.Level.Should().Be(0);
    }

    [Fact]
    public async Task Concurrent_raises_leave_exactly_one_level_that_still_reverts()
    {
        var verbosity = new LogVerbosity(_time);

        await Task.WhenAll(Enumerable.Range(1, 64).Select(i => Task.Run(() => verbosity.Set((uint)i, TimeSpan.FromSeconds(i)), TestContext.Current.CancellationToken)));

        verbosity.Level.Should().BeInRange(1u, 64u);
        _time.Advance(TimeSpan.FromSeconds(64));
        verbosity.Level.Should().Be(0, "whichever raise won, its own timer ends it");
    }

    [Fact]
    public void A_negative_duration_is_refused()
    {
        var verbosity = new LogVerbosity(_time);

        ((Action)(() => verbosity.Set(1, TimeSpan.FromSeconds(-1)))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*must not be negative*");
        verbosity.Level.Should().Be(0);
    }
}

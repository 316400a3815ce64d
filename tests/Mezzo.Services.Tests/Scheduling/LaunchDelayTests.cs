using Mezzo.Services.Scheduling;
using Microsoft.Extensions.Time.Testing;
using static Mezzo.Services.Tests.Scheduling.Apps;

namespace Mezzo.Services.Tests.Scheduling;

public sealed class LaunchDelayTests
{
    [Fact]
    public void Each_failure_multiplies_the_delay_up_to_the_maximum()
    {
        var time = new FakeTimeProvider(T0);
        var app = App("""{"id":"/web","cmd":"x","backoffSeconds":2,"backoffFactor":2,"maxLaunchDelaySeconds":10}""");
        var delay = LaunchDelay.None;
        var seen = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            delay = delay.AfterFailure(app, time.GetUtcNow());
            seen.Add(delay.Delay.TotalSeconds);
        }

        seen.Should().Equal(2, 4, 8, 10, 10);
    }

    [Fact]
    public void A_delay_is_overdue_once_its_time_has_passed()
    {
        var time = new FakeTimeProvider(T0);
        var delay = LaunchDelay.None.AfterFailure(App(), time.GetUtcNow());

        delay.IsOverdue(time.GetUtcNow()).Should().BeFalse();
        time.Advance(TimeSpan.FromMilliseconds(999));
        delay.IsOverdue(time.GetUtcNow()).Should().BeFalse();
        time.Advance(TimeSpan.FromMilliseconds(1));
        delay.IsOverdue(time.GetUtcNow()).Should().BeTrue();
    }
}

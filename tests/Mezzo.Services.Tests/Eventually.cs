using System.Diagnostics;

namespace Mezzo.Services.Tests;

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds or 30 s pass (then returns its last answer).</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
            {
                return condition();
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>Advances <paramref name="time"/> a step at a time until <paramref name="task"/> completes (timers made later still fire).</summary>
    public static async Task<T> DriveAsync<T>(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, Task<T> task, TimeSpan step)
    {
        var deadline = Stopwatch.StartNew();
        while (!task.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            time.Advance(step);
            await Task.WhenAny(task, Task.Delay(20));
        }

        return await task;
    }
}

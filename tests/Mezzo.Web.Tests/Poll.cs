using System.Diagnostics;

namespace Mezzo.Web.Tests;

/// <summary>Waits for a condition with a deadline (never a fixed sleep).</summary>
internal static class Poll
{
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                last = ex; // not up yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }
}

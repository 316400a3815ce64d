using System.Net;
using System.Net.Sockets;

namespace Mezzo.IntegrationTests.Services;

/// <summary>
/// A range of host ports for one test's agent that no other cluster in this run offers and nothing binds now: the
/// services tests start real servers on $PORT0, and two clusters offering the same range would make them collide.
/// Below the kernel's ephemeral range (32768+), so client sockets cannot take them meanwhile.
/// </summary>
internal static class PortRanges
{
    private const int First = 20000;
    private const int Width = 100;
    private const int Count = 120;
    private static int _next = Random.Shared.Next(Count);

    public static string Next()
    {
        for (var attempt = 0; attempt < Count; attempt++)
        {
            var start = First + (Interlocked.Increment(ref _next) % Count * Width);
            if (Enumerable.Range(start, Width).All(Free))
            {
                return $"[{start}-{start + Width - 1}]";
            }
        }

        throw new InvalidOperationException($"No free range of {Width} ports between {First} and {First + (Count * Width)}");
    }

    private static bool Free(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace Mezzo.IntegrationTests.Infrastructure;

public static class Ports
{
    /// <summary>A loopback port free right now (the kernel's pick), for processes that must be told a port up front.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

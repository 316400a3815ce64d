namespace Mezzo.Hosting;

/// <summary>Anchor for the shared hosting assembly (metrics, logging, listener setup used by every Mezzo server).</summary>
public static class HostingAssembly
{
    /// <summary>The assembly's informational version, as servers report it.</summary>
    public static string Version { get; } =
        typeof(HostingAssembly).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            is [System.Reflection.AssemblyInformationalVersionAttribute a, ..] ? a.InformationalVersion : "unknown";
}

namespace Mezzo.Master;

public static class MezzoVersion
{
    public const string Mezzo = "0.1.0";

    /// <summary>The Mesos API level we speak; clients such as Marathon check the master's version string.</summary>
    public const string MesosCompatible = "1.11.0";
}

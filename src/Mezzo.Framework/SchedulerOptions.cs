using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;

namespace Mezzo.Framework;

public sealed class SchedulerOptions
{
    /// <summary>
    /// Master address: host:port or http://host:port; several masters as host1:5050,host2:5050 (tried in turn,
    /// following the standbys' redirects to the leader); or etcd://host:2379[,...][/prefix] to read the leader from etcd.
    /// </summary>
    public required string Master { get; set; }

    /// <summary>The scheme of a master named without one (<c>https</c> in a TLS cluster).</summary>
    public string DefaultScheme { get; set; } = "http";

    /// <summary>
    /// Adjusts the HTTP handler before the first call: the TLS trust of the cluster's CA (<c>--tls-ca</c>) and a
    /// client certificate, when the caller has them. Null: the machine's trust, no client certificate.
    /// </summary>
    public Action<System.Net.Http.SocketsHttpHandler>? ConfigureHttpHandler { get; set; }

    /// <summary>Sent on SUBSCRIBE; its id is filled in (and reused on every reconnect) once the master assigns one.</summary>
    public required FrameworkInfo FrameworkInfo { get; set; }

    /// <summary>
    /// The framework's credential with the master (Mesos's <c>--authenticate_frameworks</c>): sent as
    /// <c>Authorization: Basic</c> on every call, and its principal becomes <see cref="FrameworkInfo"/>'s principal
    /// when that names none. Null: calls go unauthenticated.
    /// </summary>
    public Mezzo.Core.Security.Credential? Credential { get; set; }

    /// <summary>Roles (of a MULTI_ROLE framework) to subscribe suppressed; kept up to date by SUPPRESS/REVIVE/UPDATE_FRAMEWORK.</summary>
    public IReadOnlyList<string> SuppressedRoles { get; set; } = [];

    /// <summary>Mesos 1.11 offer constraints sent on every SUBSCRIBE.</summary>
    public OfferConstraints? OfferConstraints { get; set; }

    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Acknowledge every status update that carries a uuid as soon as it has been handed to the reader.</summary>
    public bool AutoAcknowledge { get; set; } = true;

    /// <summary>Connections to the master at most: the SUBSCRIBE stream holds one, calls share the rest.</summary>
    public int MaxConnections { get; set; } = 8;

    /// <summary>
    /// The encoding of calls and events: Mesos JSON (the default) or application/x-protobuf, the wire form of Mesos's
    /// scheduler.proto that the C++ and Java drivers speak.
    /// </summary>
    public WireFormat WireFormat { get; set; } = WireFormat.Json;

    /// <summary>Missing this many heartbeats in a row means the connection is dead and is reopened.</summary>
    public int MaxMissedHeartbeats { get; set; } = 5;
}

using Mezzo.Core.Security;
using Microsoft.AspNetCore.Builder;

namespace Mezzo.Hosting.Security;

/// <summary>Who an endpoint is for, which decides the switch that makes it require authentication.</summary>
public enum AccessKind
{
    /// <summary>Never authenticated: liveness probes only (<c>/health</c>, <c>/ping</c>). Keep this list short.</summary>
    Public,

    /// <summary>Reads state: authenticated with <c>--authenticate-http-readonly</c>.</summary>
    ReadOnly,

    /// <summary>Changes state: authenticated with <c>--authenticate-http-readwrite</c>.</summary>
    ReadWrite,

    /// <summary>The scheduler API: authenticated with <c>--authenticate-frameworks</c>.</summary>
    Framework,

    /// <summary>Agents registering with the master: authenticated with <c>--authenticate-agents</c>.</summary>
    Agent,

    /// <summary>The agent's executor API: a per-executor token with <c>--authenticate-http-executors</c>.</summary>
    Executor,
}

/// <summary>
/// Endpoint metadata every route of every Mezzo server carries: its <see cref="AccessKind"/> and the ACL actions that
/// gate it. A principal reaches the endpoint when <c>get_endpoints</c> allows its path or when it may ever do one of
/// the <see cref="Gates"/> (finer checks, such as which roles or which tasks, stay with the handler); otherwise 403.
/// A route without this metadata is treated as <see cref="AccessKind.ReadWrite"/> with no gates, and the endpoint
/// enumeration test fails on it, so no new endpoint can skip protection by accident.
/// </summary>
public sealed record EndpointAccess(AccessKind Kind, IReadOnlyList<AclAction> Gates)
{
    public static readonly EndpointAccess Public = new(AccessKind.Public, []);
}

public static class EndpointAccessExtensions
{
    /// <summary>Declares who may call the endpoint; see <see cref="EndpointAccess"/>.</summary>
    public static TBuilder Access<TBuilder>(this TBuilder builder, AccessKind kind, params AclAction[] gates)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new EndpointAccess(kind, gates));
    }
}

using Mezzo.Core.Resources;

namespace Mezzo.Core.Roles;

/// <summary>
/// A role's quota (Mesos's <c>QuotaConfig</c>): <paramref name="Guarantees"/> the allocator satisfies before fair
/// sharing and holds headroom for, <paramref name="Limits"/> the role (with its subtree) never exceeds. A resource
/// name absent from <paramref name="Limits"/> is unlimited; absent from <paramref name="Guarantees"/>, guaranteed 0.
/// </summary>
public sealed record QuotaConfig(string Role, ResourceQuantities Guarantees, ResourceQuantities Limits);

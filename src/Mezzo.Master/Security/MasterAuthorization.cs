using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Http;
using Microsoft.AspNetCore.Http;
using WireResource = Mezzo.Protocol.V1.Resource;

namespace Mezzo.Master.Security;

/// <summary>
/// The master's per-action checks (Mesos's local authorizer over <c>--acls</c>), shared by the operator API, the legacy
/// endpoints and the actor: a request names its action and the objects it touches, and is refused, before anything
/// changes, with a plain-text 403 naming the principal, the action and the first object it may not touch.
/// </summary>
public static class MasterAuthorization
{
    /// <summary>Why <paramref name="principal"/> may not do <paramref name="action"/> on one of the objects, or null if it may on all.</summary>
    /// <param name="objects">The objects (roles, principals, ...); a null entry is "no particular object" (Mesos's ANY).</param>
    public static string? Refusal(Acls acls, string? principal, AclAction action, IEnumerable<string?> objects)
    {
        ArgumentNullException.ThrowIfNull(acls);
        ArgumentNullException.ThrowIfNull(objects);
        foreach (var value in objects.Distinct(StringComparer.Ordinal))
        {
            if (!acls.IsAllowed(action, principal, value))
            {
                return Describe(principal, action, value);
            }
        }

        return null;
    }

    /// <summary>The refusal of one object (null: the action as a whole).</summary>
    public static string? Refusal(Acls acls, string? principal, AclAction action, string? objectValue = null) =>
        Refusal(acls, principal, action, [objectValue]);

    /// <summary>The same, as the 403 an HTTP handler answers with, for the request's authenticated principal.</summary>
    public static IResult? Check(HttpContext context, MasterOptions options, AclAction action, IEnumerable<string?> objects)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        return Refusal(options.Security.Acls, HttpSecurity.Principal(context), action, objects) is { } refusal
            ? HttpBodies.Text(StatusCodes.Status403Forbidden, refusal)
            : null;
    }

    public static IResult? Check(HttpContext context, MasterOptions options, AclAction action, string? objectValue = null) =>
        Check(context, options, action, [objectValue]);

    public static string Describe(string? principal, AclAction action, string? objectValue)
    {
        var who = principal is null ? "An unauthenticated caller" : $"Principal '{principal}'";
        var what = objectValue is null ? "" : $" on {AclActions.ObjectField(action)} '{objectValue}'";
        return $"Forbidden: {who} is not authorized to {AclActions.Key(action)}{what}";
    }

    /// <summary>The roles a RESERVE reserves for: each resource's innermost reservation (or the pre-1.4 <c>role</c>).</summary>
    public static IEnumerable<string?> ReservedRoles(IEnumerable<WireResource>? resources) =>
        (resources ?? []).Where(resource => resource is not null)
            .Select(resource => resource.Reservations is { Count: > 0 } stack ? stack[^1]?.Role : resource.Role);

    /// <summary>
    /// Whose reservations an UNRESERVE releases (<c>unreserve_resources</c>'s object, the reserver principal): each
    /// resource's innermost reservation's principal, null (any) when it names none, as Mesos asks the authorizer.
    /// </summary>
    public static IEnumerable<string?> ReserverPrincipals(IEnumerable<WireResource>? resources) =>
        (resources ?? []).Where(resource => resource is not null)
            .Select(resource => resource.Reservations is { Count: > 0 } stack ? stack[^1]?.Principal : null);
}

using Mezzo.Master.Actor;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Views;

/// <summary>Roles, weights and quotas as a principal may see them: by <c>view_roles</c>, quotas by <c>get_quotas</c>.</summary>
public static class RoleViews
{
    public static IReadOnlyList<RoleReport> Roles(IReadOnlyList<RoleReport> roles, ViewFilter? view) =>
        view is null ? roles : [.. roles.Where(role => view.Role(role.Name))];

    public static IReadOnlyList<WeightInfo> Weights(IReadOnlyList<WeightInfo> weights, ViewFilter? view) =>
        view is null ? weights : [.. weights.Where(weight => view.Role(weight.Role ?? ""))];

    /// <summary>Trims a freshly built status in place (it is never shared) and returns it.</summary>
    public static QuotaStatus Quota(QuotaStatus status, ViewFilter? view)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (view is not null)
        {
            status.Infos = status.Infos?.Where(info => view.Quota(info.Role ?? "")).ToList();
            status.Configs = status.Configs?.Where(config => view.Quota(config.Role ?? "")).ToList();
        }

        return status;
    }
}

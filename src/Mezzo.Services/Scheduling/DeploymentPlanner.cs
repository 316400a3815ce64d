using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.State;

namespace Mezzo.Services.Scheduling;

/// <summary>What one app needs now: how many new tasks to launch, which tasks to kill, and whether it has arrived.</summary>
public sealed record AppPlan(int Launch, IReadOnlyList<string> Kill, bool Complete);

/// <summary>
/// The Nomad-style heart of the services framework: a pure function from an app's target definition and its tasks to
/// the next actions. Called again after every change (status update, launch, API call), it scales up and down and
/// carries out rolling restarts the way Marathon's upgrade strategy describes: at least
/// ceil(instances × minimumHealthCapacity) healthy tasks while old ones are replaced, at most
/// floor(instances × (1 + maximumOverCapacity)) tasks at once.
/// </summary>
public static class DeploymentPlanner
{
    public static AppPlan Plan(AppDefinition? target, IReadOnlyList<Instance> instances, DateTimeOffset now)
    {
        var all = instances.Where(i => i.IsActive).ToList();
        if (target is null)
        {
            return new AppPlan(0, [.. all.Where(i => !i.Killing).Select(i => i.TaskId)], all.Count == 0);
        }

        // Unreachable past inactiveAfterSeconds: replaced as if gone, though not killed (nothing can reach it); it is
        // forgotten after expungeAfterSeconds, and if it comes back before, the surplus is scaled away.
        var active = all.Where(i => !IsInactive(i, target, now)).ToList();

        var hasHealth = target.HealthChecks is { Count: > 0 };
        var hasReadiness = target.ReadinessChecks is { Count: > 0 };

        // Up: counts toward the healthy floor and toward arriving. Readiness is asked of tasks of the new config only
        // (the old ones were started before the app had its checks, or passed them then).
        bool Up(Instance i) => i.IsHealthy(hasHealth) && (!hasReadiness || i.ConfigVersion != target.ConfigVersion || i.Ready == true);
        var count = target.Instances ?? 1;
        var current = active.Where(i => i.ConfigVersion == target.ConfigVersion).ToList();
        var old = active.Where(i => i.ConfigVersion != target.ConfigVersion).ToList();
        var currentLive = current.Where(i => !i.Killing).ToList();
        var oldLive = old.Where(i => !i.Killing).ToList();
        var kills = new List<string>();
        int launch;
        if (oldLive.Count == 0)
        {
            if (currentLive.Count > count)
            {
                kills.AddRange(KillOrder(currentLive, target, Up).Take(currentLive.Count - count).Select(i => i.TaskId));
            }

            launch = Math.Max(0, count - currentLive.Count);
        }
        else
        {
            var strategy = target.UpgradeStrategy!;
            var minHealthy = (int)Math.Ceiling(Math.Round(count * strategy.MinimumHealthCapacity!.Value, 6));
            var maxCapacity = (int)Math.Floor(Math.Round(count * (1 + strategy.MaximumOverCapacity!.Value), 6));
            var healthy = currentLive.Count(i => Up(i)) + oldLive.Count(i => Up(i));
            var killedOld = 0;
            foreach (var instance in KillOrder(oldLive, target, Up))
            {
                // Old tasks beyond the new instance count go as soon as the floor allows, like unhealthy ones.
                if (!Up(instance))
                {
                    kills.Add(instance.TaskId);
                    killedOld++;
                }
                else if (healthy - 1 >= minHealthy)
                {
                    kills.Add(instance.TaskId);
                    killedOld++;
                    healthy--;
                }
            }

            var live = currentLive.Count + oldLive.Count - killedOld;
            launch = Math.Max(0, Math.Min(count - currentLive.Count, maxCapacity - live));
            if (launch == 0 && kills.Count == 0 && currentLive.All(i => Up(i)))
            {
                // The floor equals the capacity (e.g. minimumHealthCapacity 1, maximumOverCapacity 0): nothing can move
                // without one old task going first. Marathon then allows being one under the floor; so does Mezzo.
                kills.Add(KillOrder(oldLive, target, Up).First().TaskId);
            }
        }

        var complete = old.Count == 0 && current.Count == count && current.All(i => !i.Killing && Up(i));
        return new AppPlan(launch, kills, complete);
    }

    public static bool IsInactive(Instance instance, AppDefinition app, DateTimeOffset now) =>
        instance.UnreachableSince is { } since && UnreachableSeconds(app) is { } limits && now - since >= TimeSpan.FromSeconds(limits.Inactive);

    public static bool IsExpunged(Instance instance, AppDefinition? app, DateTimeOffset now) =>
        instance.UnreachableSince is { } since && (app is null || (UnreachableSeconds(app) is { } limits && now - since >= TimeSpan.FromSeconds(limits.Expunge)));

    /// <summary>The app's unreachableStrategy in seconds; null when "disabled" (unreachable tasks are waited for).</summary>
    public static (double Inactive, double Expunge)? UnreachableSeconds(AppDefinition app) =>
        app.UnreachableStrategy is System.Text.Json.Nodes.JsonObject strategy
            ? (Seconds(strategy["inactiveAfterSeconds"], 300), Seconds(strategy["expungeAfterSeconds"], 600))
            : null;

    private static double Seconds(System.Text.Json.Nodes.JsonNode? node, double fallback) =>
        node is not null && double.TryParse(node.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : fallback;

    /// <summary>Tasks in the order they should go: not yet running, then unhealthy, then by the app's killSelection.</summary>
    public static IEnumerable<Instance> KillOrder(IEnumerable<Instance> instances, AppDefinition app, Func<Instance, bool> up)
    {
        var ordered = instances.OrderBy(i => i.IsRunning ? 1 : 0).ThenBy(i => up(i) ? 1 : 0);
        return app.KillSelection == "OLDEST_FIRST"
            ? ordered.ThenBy(i => i.StagedAt).ThenBy(i => i.TaskId, StringComparer.Ordinal)
            : ordered.ThenByDescending(i => i.StagedAt).ThenBy(i => i.TaskId, StringComparer.Ordinal);
    }
}

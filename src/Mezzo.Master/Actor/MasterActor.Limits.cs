using Mezzo.Core.Allocation;
using Mezzo.Master.State;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Caps that keep one client from growing the master's state without bound (issue 10 §4): frameworks, tasks per
/// framework and offers outstanding per framework. Each refusal names the flag, so the operator knows what to raise.
/// </summary>
public sealed partial class MasterActor
{
    /// <summary>A new framework beyond --max-frameworks: 503, as a master that cannot take more load answers.</summary>
    private CallResult? FrameworkLimitError()
    {
        if (_frameworks.Count < _options.MaxFrameworks)
        {
            return null;
        }

        Log.FrameworkLimitReached(_log, _options.MaxFrameworks);
        return CallResult.ServiceUnavailable(
            $"Framework refused: the master already has {_frameworks.Count} frameworks, the most it accepts (--max-frameworks={_options.MaxFrameworks}); "
            + "a framework that fails over keeps its place");
    }

    /// <summary>
    /// Launching <paramref name="adding"/> more tasks would pass --max-tasks-per-framework: the TASK_ERROR message. A
    /// terminal task counts until the framework acknowledges its last update, because until then the master keeps it.
    /// </summary>
    private string? TaskLimitError(FrameworkEntry framework, int adding) =>
        framework.Tasks.Count + adding <= _options.MaxTasksPerFramework
            ? null
            : $"Framework {framework.FrameworkId} has {framework.Tasks.Count} tasks (active, or terminal and not yet acknowledged), "
              + $"the most the master keeps per framework (--max-tasks-per-framework={_options.MaxTasksPerFramework})";

    /// <summary>A framework holding --max-outstanding-offers-per-framework offers gets none until it answers some.</summary>
    private bool OfferLimitReached(FrameworkEntry framework) => framework.OfferIds.Count >= _options.MaxOutstandingOffersPerFramework;

    /// <summary>
    /// The allocator offers per agent and role, so one cycle may give a framework more offers than it may still hold:
    /// those beyond its budget are dropped (their resources stay free) and another cycle follows, in which the
    /// framework, now at its cap, takes no part and the others can have them.
    /// </summary>
    private IReadOnlyList<OfferDecision> WithinOfferLimits(IReadOnlyList<OfferDecision> decisions)
    {
        // The usual cycle: no framework could pass its cap even if every decision were its own; nothing to copy.
        var roomForAll = true;
        foreach (var decision in decisions)
        {
            if (_frameworks[decision.FrameworkId].OfferIds.Count + decisions.Count > _options.MaxOutstandingOffersPerFramework)
            {
                roomForAll = false;
                break;
            }
        }

        if (roomForAll)
        {
            return decisions;
        }

        var kept = new List<OfferDecision>(decisions.Count);
        var budgets = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var decision in decisions)
        {
            var framework = _frameworks[decision.FrameworkId];
            if (!budgets.TryGetValue(decision.FrameworkId, out var left))
            {
                left = _options.MaxOutstandingOffersPerFramework - framework.OfferIds.Count;
            }

            if (left > 0)
            {
                kept.Add(decision);
            }

            budgets[decision.FrameworkId] = left - 1;
        }

        if (kept.Count < decisions.Count)
        {
            _allocationPending = true;
        }

        return kept;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Framework refused: --max-frameworks={Max} reached")]
        public static partial void FrameworkLimitReached(ILogger logger, int max);
    }
}

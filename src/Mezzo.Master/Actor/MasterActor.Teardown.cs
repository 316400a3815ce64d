namespace Mezzo.Master.Actor;

/// <summary>
/// The operator's TEARDOWN (master.proto <c>Call.Teardown</c>, the v1 form of Mesos's <c>/master/teardown</c>): ends a
/// framework as if its scheduler had sent TEARDOWN, killing all of its tasks and shutting down its executors.
/// </summary>
public sealed partial class MasterActor
{
    public CallResult TeardownFramework(string frameworkId)
    {
        // Mesos answers an unknown or already removed framework 400 "No framework found with specified ID".
        if (!_frameworks.TryGetValue(frameworkId, out var framework))
        {
            return CallResult.BadRequest($"No framework found with ID '{frameworkId}'");
        }

        RemoveFramework(framework, "operator TEARDOWN");
        return CallResult.Ok;
    }
}

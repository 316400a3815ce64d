using Mezzo.Master.State;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Scheduler;

/// <summary>Mesos's checks on an ExecutorInfo (master/validation.cpp, executor::internal), in its words where it has some.</summary>
public static class ExecutorValidation
{
    /// <summary>An unset type means CUSTOM, as Mesos reads ExecutorInfo from frameworks that predate the field.</summary>
    public static ExecutorInfoType TypeOf(ExecutorInfo executor) =>
        executor.Type is null or ExecutorInfoType.UNKNOWN ? ExecutorInfoType.CUSTOM : executor.Type.Value;

    public static string? Validate(ExecutorInfo executor, FrameworkEntry framework)
    {
        var executorId = executor.ExecutorId?.Value;
        if (TaskValidation.ValidateId(executorId) is { } idError)
        {
            return $"Executor ID '{executorId}' is invalid: {idError}";
        }

        if (executor.FrameworkId?.Value is { } frameworkId && frameworkId != framework.FrameworkId)
        {
            return $"ExecutorInfo has an invalid FrameworkID (Actual: {frameworkId} vs Expected: {framework.FrameworkId})";
        }

        if (executor.ShutdownGracePeriod?.Nanoseconds is < 0)
        {
            return "ExecutorInfo's 'shutdown_grace_period' must be non-negative";
        }

        if (executor.Type is ExecutorInfoType.UNKNOWN)
        {
            return "Unknown executor type";
        }

        if (Protocol.Secrets.EnvironmentValidation.Validate(executor.Command) is { } environmentError)
        {
            return $"Executor's CommandInfo is invalid: {environmentError}";
        }

        switch (TypeOf(executor))
        {
            case ExecutorInfoType.DEFAULT:
                if (executor.Command is not null)
                {
                    return "'ExecutorInfo.command' must not be set for 'DEFAULT' executor";
                }

                if (executor.Container?.Type is { } containerType && containerType != ContainerInfoType.MESOS)
                {
                    return "'ExecutorInfo.container.type' must be 'MESOS' for 'DEFAULT' executor";
                }

                break;
            default:
                if (executor.Command is null)
                {
                    return "'ExecutorInfo.command' must be set for 'CUSTOM' executor";
                }

                if (executor.Command.Shell != false && string.IsNullOrEmpty(executor.Command.Value))
                {
                    return "Executor's command must have 'value' set for a shell command";
                }

                if (executor.Command.Shell == false && string.IsNullOrEmpty(executor.Command.Value))
                {
                    return "Executor's command must have 'value' (the executable) set when 'shell' is false";
                }

                break;
        }

        if (ResourceConversion.Validate(executor.Resources ?? []) is { } resourceError)
        {
            return $"Executor uses invalid resources: {resourceError}";
        }

        return null;
    }
}

using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Secrets;

/// <summary>
/// What every view of a task or executor shows of its secrets (docs/secrets.md: a VALUE secret travels to the agent in
/// the TaskInfo, so anything that echoes a TaskInfo would echo the secret). The type and a REFERENCE's name and key stay
/// visible, which is what an operator needs to see which secret a task uses; a VALUE's data becomes empty bytes (not
/// absent: <c>Secret.Value.data</c> is a required field, so a protobuf reader of the view would reject the message).
/// The originals are never changed; a copy is made only when there is something to hide.
/// </summary>
public static class SecretRedaction
{
    public static TaskInfo Redact(TaskInfo task) => HasSecretValue(task) ? RedactInPlace(MesosJson.Clone(task)) : task;

    public static ExecutorInfo Redact(ExecutorInfo executor)
    {
        if (!Secrets(executor).Any(IsValue))
        {
            return executor;
        }

        var copy = CloneExecutor(executor);
        foreach (var secret in Secrets(copy))
        {
            Clear(secret);
        }

        return copy;
    }

    public static ContainerInfo? Redact(ContainerInfo? container) =>
        container is null || !Secrets(container).Any(IsValue) ? container : Redact(new TaskInfo { Container = container }).Container;

    public static HealthCheck? Redact(HealthCheck? check) =>
        check is null || !Secrets(check.Command).Any(IsValue) ? check : Redact(new TaskInfo { HealthCheck = check }).HealthCheck;

    public static bool HasSecretValue(TaskInfo task) => Secrets(task).Any(IsValue);

    /// <summary>Every secret a task carries: command, executor, container volumes and checks.</summary>
    public static IEnumerable<Secret> Secrets(TaskInfo task) =>
        Secrets(task.Command)
            .Concat(task.Executor is null ? [] : Secrets(task.Executor))
            .Concat(task.Container is null ? [] : Secrets(task.Container))
            .Concat(Secrets(task.HealthCheck?.Command))
            .Concat(Secrets(task.Check?.Command?.Command));

    public static IEnumerable<Secret> Secrets(ExecutorInfo executor) =>
        Secrets(executor.Command).Concat(executor.Container is null ? [] : Secrets(executor.Container));

    private static IEnumerable<Secret> Secrets(ContainerInfo container) =>
        (container.Volumes ?? []).Select(v => v.Source?.Secret).OfType<Secret>();

    private static IEnumerable<Secret> Secrets(CommandInfo? command) =>
        (command?.Environment?.Variables ?? []).Select(v => v.Secret).OfType<Secret>();

    private static bool IsValue(Secret secret) => secret.Value?.Data is { Length: > 0 };

    private static TaskInfo RedactInPlace(TaskInfo copy)
    {
        foreach (var secret in Secrets(copy))
        {
            Clear(secret);
        }

        return copy;
    }

    private static ExecutorInfo CloneExecutor(ExecutorInfo executor) => MesosJson.Clone(new TaskInfo { Executor = executor }).Executor!;

    private static void Clear(Secret secret)
    {
        if (secret.Value is not null)
        {
            secret.Value = new SecretValue { Data = [] };
        }
    }
}

using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// The launch pipeline of a task: sandbox and TASK_STARTING on the actor; then whatever may take long (fetching URIs,
/// pulling an image) off the actor; then, back on the actor, isolation, the process, and TASK_RUNNING. A task with
/// nothing to prepare goes straight through, so plain command tasks pay for no extra hop.
/// </summary>
public sealed partial class AgentService
{
    private void RunTask(FrameworkInfo framework, TaskInfo info, Executors.AgentExecutor? executor = null)
    {
        if (executor is null && info.Executor is not null)
        {
            RunOnExecutor(framework, info);
            return;
        }

        var frameworkId = framework.Id?.Value ?? "";
        var key = (frameworkId, info.TaskId?.Value ?? "");
        if (_tasks.ContainsKey(key))
        {
            return; // a duplicate delivery of the same launch
        }

        var containerId = Guid.NewGuid().ToString();
        var executorDir = Path.Combine(_options.SandboxRoot, _agentId!, "frameworks", frameworkId, "executors", info.Executor?.ExecutorId?.Value ?? key.Item2);
        var task = new AgentTask
        {
            FrameworkId = frameworkId,
            Info = info,
            Framework = framework,
            Sandbox = executor?.TaskSandbox(key.Item2) ?? Path.Combine(executorDir, "runs", containerId),
            ContainerId = containerId,
            Executor = executor,
        };
        _tasks[key] = task;
        executor?.Tasks.TryAdd(key.Item2, task);
        // Refused before anything is made for it: a root task without --allow-root-tasks, or a user this host lacks.
        if (UserRefusal(info.Command, framework, "task", inImage: HasImage(task)) is { } refusal)
        {
            FailLaunch(task, refusal);
            return;
        }

        try
        {
            Directory.CreateDirectory(task.Sandbox);
            if (!HasImage(task))
            {
                // An image's users are the image's: a host user of the same name may have another uid.
                ChownSandbox(task.Sandbox, info.Command, framework);
            }

            if (executor is null)
            {
                var latest = Path.Combine(executorDir, "runs", "latest");
                File.Delete(latest);
                File.CreateSymbolicLink(latest, task.Sandbox);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            FailLaunch(task, ex.Message);
            return;
        }

        Enqueue(task, TaskState.TASK_STARTING, null, null);
        if (!NeedsPreparation(task))
        {
            StartProcess(task);
            return;
        }

        task.Preparation = new CancellationTokenSource();
        var token = task.Preparation.Token;
        TrackExitHandler(Task.Run(async () =>
        {
            string? failure = null;
            try
            {
                await PrepareAsync(task, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Killed while preparing: StartProcess sees the kill and reports it.
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failure = ex.Message;
            }

            Post(() =>
            {
                task.Preparation?.Dispose();
                task.Preparation = null;
                if (failure is not null)
                {
                    TrackExitHandler(ReleaseContainerAsync(task));
                    FailLaunch(task, failure);
                }
                else
                {
                    StartProcess(task);
                }
            });
        }));
    }

    /// <summary>Whether the task needs work off the actor before its process can start.</summary>
    private static bool NeedsPreparation(AgentTask task) => task.Info.Command?.Uris is { Count: > 0 } || HasImage(task);

    /// <summary>Off the actor. Throws with a message that names what failed (it becomes the TASK_FAILED message).</summary>
    private async Task PrepareAsync(AgentTask task, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (task.Info.Command?.Uris is { Count: > 0 })
        {
            await FetchUrisAsync(task, cancellationToken).ConfigureAwait(false);
        }

        if (HasImage(task))
        {
            await PrepareImageAsync(task, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>On the actor: isolation, the process itself, TASK_RUNNING, and from then on the exit watch.</summary>
    private void StartProcess(AgentTask task)
    {
        if (task.IsTerminal || task.Killing || _disposing)
        {
            TrackExitHandler(ReleaseContainerAsync(task));
        }

        if (task.IsTerminal)
        {
            return;
        }

        if (task.Killing || _disposing)
        {
            Enqueue(task, TaskState.TASK_KILLED, TaskStatusReason.REASON_TASK_KILLED_DURING_LAUNCH, "Killed before it was launched");
            return;
        }

        if (CheckDefinitionError(task) is { } invalidCheck)
        {
            FailLaunch(task, invalidCheck);
            return;
        }

        try
        {
            var environment = TaskEnvironment.Build(task, _agentId!, _options, _secrets);
            var spec = task.Image is null ? CommandSpec.From(task, environment) : null;
            if (_isolator is not null)
            {
                task.Container = _isolator.Prepare(task.ContainerId, Scalar(task.Info, "cpus"), Scalar(task.Info, "mem"));
                spec = spec is null ? null : spec with { CgroupProcs = task.Container.ProcsFiles };
            }

            if (_namespaces is not null && spec is not null)
            {
                spec = spec with { Namespaces = _namespaces.Prepare(task.Sandbox) with { Binds = Executors.GroupVolumes.Binds(task) } };
            }

            // An image task's process is runc, outside the task's cgroups: runc puts the container into them (cgroupsPath),
            // and into namespaces of its own.
            spec ??= StartContainer(task, environment);

            task.Process = _launcher.Launch(spec with { Supervisor = Supervise(task) });
            if (task.RunDir is not null)
            {
                task.SupervisorStart = Supervisor.ProcStat.StartTime("/proc", task.Process.Pid);
            }

            Log.TaskLaunched(_log, task.TaskId, task.FrameworkId, task.Process.Pid, task.Sandbox);
            Enqueue(task, TaskState.TASK_RUNNING, null, null);
            // A COMMAND check enters the task's namespaces (CheckProbe); it must not get fresh ones of its own.
            StartChecks(task, spec with { Namespaces = null });
            TrackExitHandler(task.Process.Exited.ContinueWith(exited => HandleExitAsync(task, exited.Result), TaskScheduler.Default).Unwrap());
        }
        catch (Exception ex) when (ex is LaunchException or IOException or UnauthorizedAccessException or ArgumentException or Containers.ContainerLaunchException or Secrets.SecretResolutionException)
        {
            TrackExitHandler(ReleaseContainerAsync(task));
            if (task.Container is { } container)
            {
                TrackExitHandler(DestroyContainerAsync(task, container));
            }

            FailLaunch(task, ex.Message);
        }
    }

    private void FailLaunch(AgentTask task, string reason)
    {
        Log.LaunchFailed(_log, task.TaskId, reason);
        Enqueue(task, TaskState.TASK_FAILED, TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED, $"Failed to launch container: {reason}", TaskStatusSource.SOURCE_AGENT);
    }
}

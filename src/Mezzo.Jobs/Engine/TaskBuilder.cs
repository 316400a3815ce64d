using System.Globalization;
using Mezzo.Protocol.Chronos;
using Mezzo.Protocol.V1;

namespace Mezzo.Jobs.Engine;

/// <summary>A run as a Mesos command task, the way Chronos's MesosTaskBuilder builds one.</summary>
public static class TaskBuilder
{
    public static TaskInfo Build(Job job, Run run, Offer offer)
    {
        var allocation = offer.Resources?.FirstOrDefault()?.AllocationInfo;
        Resource Scalar(string name, double value) => new()
        {
            Name = name,
            Type = Protocol.V1.ValueType.SCALAR,
            Scalar = new ValueScalar { Value = value },
            AllocationInfo = allocation,
        };

        var environment = new List<EnvironmentVariable>
        {
            Variable("mesos_task_id", run.TaskId),
            Variable("CHRONOS_JOB_OWNER", job.Owner),
            Variable("CHRONOS_JOB_NAME", job.Name),
            Variable("HOST", offer.Hostname ?? ""),
            Variable("CHRONOS_RESOURCE_MEM", job.Mem.ToString(CultureInfo.InvariantCulture)),
            Variable("CHRONOS_RESOURCE_CPU", job.Cpus.ToString(CultureInfo.InvariantCulture)),
            Variable("CHRONOS_RESOURCE_DISK", job.Disk.ToString(CultureInfo.InvariantCulture)),
        };
        environment.AddRange(job.EnvironmentVariables.Select(v => Variable(v.Name, v.Value)));
        var command = new CommandInfo
        {
            Value = job.Command,
            Shell = job.Shell,
            Environment = new EnvironmentInfo { Variables = environment },
            User = string.IsNullOrEmpty(job.RunAsUser) ? null : job.RunAsUser,
            Uris = [.. (job.Fetch.Length > 0 ? job.Fetch : [.. job.Uris.Select(u => new FetchUri(u, false, false, false))])
                .Select(f => new CommandInfoURI { Value = f.Uri, Executable = f.Executable, Cache = f.Cache, Extract = f.Extract })],
        };
        if (job.Command.Length == 0 && job.Container is not null)
        {
            // No command: the image's own entrypoint runs (Mesos: shell false and no value).
            command.Value = null;
            command.Shell = false;
        }
        else if (!job.Shell)
        {
            // Mesos runs value as the executable with arguments as argv (argv[0] first); a manual run's
            // "arguments" are appended, and ignored for shell jobs (Chronos's API docs).
            var extra = run.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            command.Arguments = [job.Command, .. job.Arguments, .. extra];
        }

        return new TaskInfo
        {
            Name = $"ChronosTask:{job.Name}",
            TaskId = new TaskID { Value = run.TaskId },
            AgentId = offer.AgentId,
            Resources = [Scalar("cpus", job.Cpus), Scalar("mem", job.Mem), Scalar("disk", job.Disk)],
            Command = command,
            Container = Container(job.Container),
            Data = job.TaskInfoData.Length > 0 ? System.Text.Encoding.UTF8.GetBytes(job.TaskInfoData) : null,
        };
    }

    private static EnvironmentVariable Variable(string name, string value) => new() { Name = name, Value = value };

    private static ContainerInfo? Container(JobContainer? container)
    {
        if (container is null)
        {
            return null;
        }

        var volumes = container.Volumes.Select(v => new Volume
        {
            ContainerPath = v.ContainerPath,
            HostPath = v.HostPath,
            Mode = v.Mode == "RO" ? VolumeMode.RO : VolumeMode.RW,
        }).ToList();
        return container.Type == "MESOS"
            ? new ContainerInfo
            {
                Type = ContainerInfoType.MESOS,
                Volumes = volumes,
                Mesos = new ContainerInfoMesosInfo { Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = container.Image }, Cached = !container.ForcePullImage } },
            }
            : new ContainerInfo
            {
                Type = ContainerInfoType.DOCKER,
                Volumes = volumes,
                Docker = new ContainerInfoDockerInfo
                {
                    Image = container.Image,
                    ForcePullImage = container.ForcePullImage,
                    Parameters = [.. container.Parameters.Select(p => new Parameter { Key = p.Key, Value = p.Value })],
                },
            };
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mezzo.Cli.Flags;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Framework;
using Mezzo.Protocol.V1;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>mezzo execute</c>, in the spirit of <c>mesos-execute</c>: a one-task framework. Task states go to stderr,
/// the task's own stdout/stderr to ours, and the exit code is the task's.
/// </summary>
public static partial class ExecuteCommand
{
    private static Func<string?, string?> Required(string flag) => value => string.IsNullOrWhiteSpace(value) ? $"{flag} is required" : null;

    private static string? ValidateEnv(string? json)
    {
        if (json is not { Length: > 0 })
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json) is JsonObject ? null : "--env: expected a JSON object";
        }
        catch (JsonException ex)
        {
            return $"--env: {ex.Message}";
        }
    }

    public static Command Create()
    {
        var master = FlagOption.Create<string?>("master", "Master address: host:port, several as host1:port,host2:port, or etcd://host:2379 to follow the elected leader", () => null).Check(MasterFlag.Check);
        var name = FlagOption.Create<string?>("name", "Task name (also its id)", () => null).Check(Required("--name"));
        var commandText = FlagOption.Create<string?>("command", "Shell command to run", () => null).Check(Required("--command"));
        var shell = FlagOption.Create("shell", "Run the command with /bin/sh -c (false: the first word is the executable)", () => true, bool.Parse);
        var resources = FlagOption.Create("resources", "Resources for the task", () => "cpus:0.1;mem:32").Check(AgentFlagValidation.Resources);
        var env = FlagOption.Create<string?>("env", "Environment as a JSON object, e.g. '{\"GREETING\":\"hi\"}'", () => null).Check(ValidateEnv);
        var frameworkName = FlagOption.Create("framework-name", "Framework name", () => "mezzo-execute");
        var role = FlagOption.Create("role", "Role to subscribe with", () => "*");
        var user = FlagOption.Create<string?>("user", "User to run the task as (default: current user)", () => null);
        var killAfter = FlagOption.Duration("kill-after", "Kill the task after it has run this long (0 = never)", TimeSpan.Zero);
        var partitionAware = FlagOption.Create("partition-aware", "Subscribe with the PARTITION_AWARE capability", () => false, bool.Parse);
        var checkpoint = FlagOption.Create("checkpoint", "Subscribe with checkpointing: the task survives a restart of its agent (mesos-execute's --checkpoint)", () => false, bool.Parse);
        var quiet = FlagOption.Create("quiet", "Don't print state changes", () => false, bool.Parse);
        var uris = new Option<string[]>("--uri") { Description = "URI the agent fetches into the sandbox before the task runs (http, https, file or an absolute path; archives are extracted); repeatable" };
        var dockerImage = FlagOption.Create<string?>("docker-image", "Run the command in this Docker image (ContainerInfo MESOS with a DOCKER image, as mesos-execute)", () => null);
        var command = new Command("execute", "Run one task on the cluster, stream its output, exit with its exit code (like mesos-execute)")
        {
            master, name, commandText, shell, resources, env, frameworkName, role, user, killAfter, partitionAware, quiet,
            uris, dockerImage, checkpoint,
        };
        // Quiet by default: what execute prints is the task's output and states; --log-level info shows the SDK's events.
        var logFlags = LogFlags.Create("warning");
        logFlags.AddTo(command);
        var credential = Client.ClientCredentials.AddTo(command);
        var tlsCa = Client.ClientTls.Option();
        command.Options.Add(tlsCa);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            Client.ClientCredentials.Resolved? login;
            try
            {
                login = credential(parsed);
            }
            catch (Client.CliException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return ex.ExitCode;
            }

            using var shutdown = new Shutdown(cancellationToken);
            Hosting.Tls.TlsContext tls;
            try
            {
                tls = Client.ClientTls.Resolve(parsed.GetValue(tlsCa));
            }
            catch (Client.CliException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }

            var request = new ExecuteRequest(
                parsed.GetValue(master)!,
                parsed.GetValue(name)!,
                parsed.GetValue(commandText)!,
                parsed.GetValue(shell),
                Resources.Parse(parsed.GetValue(resources)!),
                ParseEnv(parsed.GetValue(env)),
                parsed.GetValue(frameworkName)!,
                parsed.GetValue(role)!,
                parsed.GetValue(user) ?? Environment.UserName,
                parsed.GetValue(killAfter),
                parsed.GetValue(partitionAware),
                parsed.GetValue(quiet),
                parsed.GetValue(uris),
                parsed.GetValue(dockerImage))
            {
                Checkpoint = parsed.GetValue(checkpoint),
                Logging = logFlags.Settings(parsed),
                Credential = login?.Credential,
                Tls = tls,
            };
            return await RunAsync(request, Console.Out, Console.Error, shutdown.Token);
        });
        return command;
    }

    public sealed record ExecuteRequest(
        string Master, string Name, string Command, bool Shell, Resources Resources, IReadOnlyDictionary<string, string> Environment,
        string FrameworkName, string Role, string User, TimeSpan KillAfter, bool PartitionAware, bool Quiet, IReadOnlyList<string>? Uris = null,
        string? DockerImage = null)
    {
        public bool Checkpoint { get; init; }

        /// <summary>Who the framework logs in as (also its FrameworkInfo.principal); none when null.</summary>
        public Mezzo.Core.Security.Credential? Credential { get; init; }

        /// <summary>Where the SDK's own events go; none when null.</summary>
        public Mezzo.Hosting.Logging.ProcessLogging? Logging { get; init; }

        /// <summary>The trust for an https:// master (<c>--tls-ca</c>, MEZZO_TLS_CA).</summary>
        public Mezzo.Hosting.Tls.TlsContext Tls { get; init; } = Mezzo.Hosting.Tls.TlsContext.None;
    }

    public static async Task<int> RunAsync(ExecuteRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var capabilities = new List<FrameworkInfoCapability> { new() { Type = FrameworkInfoCapabilityType.TASK_KILLING_STATE } };
        if (request.PartitionAware)
        {
            capabilities.Add(new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.PARTITION_AWARE });
        }

        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(builder => request.Logging?.Configure(builder));
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = request.Master,
            ConfigureHttpHandler = handler => request.Tls.ConfigureClient(handler, presentCertificate: false),
            FrameworkInfo = new FrameworkInfo
            {
                User = request.User,
                Name = request.FrameworkName,
                Role = request.Role,
                FailoverTimeout = 0,
                Checkpoint = request.Checkpoint ? true : null,
                Capabilities = capabilities,
                Hostname = System.Net.Dns.GetHostName(),
                // The master authorizes register_frameworks and run_tasks by this principal (Mesos: must match the login).
                Principal = request.Credential?.Principal,
            },
            Credential = request.Credential,
        }, Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<SchedulerClient>(loggers));
        string frameworkId;
        try
        {
            frameworkId = await client.SubscribeAsync(cancellationToken);
        }
        catch (SchedulerCallException ex) when (ex.StatusCode == 401)
        {
            var who = request.Credential is null ? "the master requires credentials and none were given" : $"the master refused principal '{request.Credential.Principal}'";
            await stderr.WriteLineAsync($"Failed to subscribe with {request.Master}: authentication failed: {who}: {ex.Message} ({Client.ClientCredentials.Hint})");
            return 1;
        }
        catch (SchedulerCallException ex)
        {
            await stderr.WriteLineAsync($"Failed to subscribe with {request.Master}: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }

        Status(request, stderr, $"Subscribed with ID {frameworkId}");
        using var tailStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? tail = null;
        Uri? agentUrl = null;
        var launched = false;
        var waitingNoted = false;
        try
        {
            await foreach (var ev in client.Events.ReadAllAsync(cancellationToken))
            {
                switch (ev.Type)
                {
                    case EventType.OFFERS:
                        var offers = ev.Offers?.Offers ?? [];
                        var chosen = launched ? null : offers.FirstOrDefault(o => Fits(o, request.Resources));
                        if (chosen is not null)
                        {
                            launched = true;
                            agentUrl = AgentUrl(chosen);
                            await client.LaunchAsync(chosen, [BuildTask(request, chosen)], cancellationToken: cancellationToken);
                            Status(request, stderr, $"Submitted task '{request.Name}' to agent '{chosen.AgentId?.Value}'");
                        }
                        else if (!launched && !waitingNoted)
                        {
                            waitingNoted = true;
                            Status(request, stderr, $"Waiting for an offer with {request.Resources}");
                        }

                        var rest = offers.Where(o => o != chosen).Select(o => o.Id!).ToList();
                        if (rest.Count > 0)
                        {
                            await client.DeclineAsync(rest, new Filters { RefuseSeconds = launched ? 3600 : 1 }, cancellationToken);
                        }

                        break;
                    case EventType.UPDATE:
                        var status = ev.Update!.Status!;
                        if (status.TaskId?.Value != request.Name)
                        {
                            break;
                        }

                        var line = $"Received status update {status.State} for task '{request.Name}'";
                        if (!string.IsNullOrEmpty(status.Message))
                        {
                            line += $"\n  message: '{status.Message}'";
                        }

                        if (status.Reason is { } reason)
                        {
                            line += $"\n  reason: {reason}";
                        }

                        Status(request, stderr, line);
                        if (status.State == TaskState.TASK_RUNNING && tail is null && agentUrl is not null)
                        {
                            tail = SandboxTail.FollowAsync(agentUrl, frameworkId, request.Name, stdout, stderr, request.Credential, tailStop.Token, request.Tls);
                            if (request.KillAfter > TimeSpan.Zero)
                            {
                                _ = KillLaterAsync(client, request, status.AgentId?.Value, cancellationToken);
                            }
                        }

                        if (status.State is { } state && TaskStates.IsTerminal(state))
                        {
                            if (tail is null && agentUrl is not null && status.Source != TaskStatusSource.SOURCE_MASTER)
                            {
                                tail = SandboxTail.FollowAsync(agentUrl, frameworkId, request.Name, stdout, stderr, request.Credential, tailStop.Token, request.Tls);
                            }

                            await tailStop.CancelAsync();
                            if (tail is not null)
                            {
                                await tail;
                            }

                            await client.AcknowledgeAsync(status, cancellationToken);
                            await TeardownQuietlyAsync(client);
                            return ExitCode(status);
                        }

                        break;
                    case EventType.ERROR:
                        await stderr.WriteLineAsync($"Master sent an error: {ev.Error?.Message}");
                        return 1;
                    default:
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: tear the framework down, which kills the task, as mesos-execute does.
            await TeardownQuietlyAsync(client);
            return 130;
        }

        await stderr.WriteLineAsync("Disconnected from the master");
        return 1;
    }

    private static async Task KillLaterAsync(SchedulerClient client, ExecuteRequest request, string? agentId, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(request.KillAfter, cancellationToken);
            await client.KillAsync(request.Name, agentId, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SchedulerCallException)
        {
        }
    }

    private static async Task TeardownQuietlyAsync(SchedulerClient client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.TeardownAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is SchedulerCallException or OperationCanceledException)
        {
        }
    }

    private static bool Fits(Offer offer, Resources wanted) =>
        ResourceConversion.ToCore(offer.Resources ?? []).Unallocate().Flatten().Contains(wanted.Flatten());

    private static TaskInfo BuildTask(ExecuteRequest request, Offer offer)
    {
        var role = offer.Resources?.FirstOrDefault()?.AllocationInfo?.Role ?? request.Role;
        var resources = request.Resources;
        // Take ports the offer actually has, not the literal numbers asked for.
        var command = new CommandInfo
        {
            Shell = request.Shell,
            Value = request.Shell ? request.Command : request.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0],
            Arguments = request.Shell ? null : [.. request.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            Environment = request.Environment.Count == 0 ? null : new Protocol.V1.EnvironmentInfo
            {
                Variables = [.. request.Environment.Select(kv => new EnvironmentVariable { Name = kv.Key, Value = kv.Value })],
            },
            User = request.User,
            Uris = request.Uris is { Count: > 0 } fetch ? [.. fetch.Select(uri => new CommandInfoURI { Value = uri })] : null,
        };
        return new TaskInfo
        {
            Name = request.Name,
            TaskId = new TaskID { Value = request.Name },
            AgentId = offer.AgentId,
            Resources = ResourceConversion.ToWire(resources.AllocateTo(role)),
            Command = command,
            Container = request.DockerImage is null ? null : new ContainerInfo
            {
                Type = ContainerInfoType.MESOS,
                Mesos = new ContainerInfoMesosInfo { Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = request.DockerImage } } },
            },
        };
    }

    private static Uri? AgentUrl(Offer offer)
    {
        var address = offer.Url?.Address;
        var host = address?.Ip ?? address?.Hostname ?? offer.Hostname;
        return host is null || address?.Port is null ? null : new Uri($"{(offer.Url?.Scheme is "https" ? "https" : "http")}://{host}:{address.Port.Value.ToString(CultureInfo.InvariantCulture)}/");
    }

    /// <summary>The task's exit code when the agent reported one, else 0 for FINISHED, 137 for KILLED, 1 otherwise.</summary>
    public static int ExitCode(TaskStatus status)
    {
        if (status.State == TaskState.TASK_FINISHED)
        {
            return 0;
        }

        if (status.Message is { } message && ExitedWith().Match(message) is { Success: true } match)
        {
            return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return status.State == TaskState.TASK_KILLED ? 137 : 1;
    }

    [GeneratedRegex(@"exited with status (\d+)")]
    private static partial Regex ExitedWith();

    private static Dictionary<string, string> ParseEnv(string? json)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
        {
            return result;
        }

        foreach (var (key, value) in (JsonObject)JsonNode.Parse(json)!)
        {
            result[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
        }

        return result;
    }

    private static void Status(ExecuteRequest request, TextWriter stderr, string line)
    {
        if (!request.Quiet)
        {
            stderr.WriteLine(line);
        }
    }
}

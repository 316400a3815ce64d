using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Agent.Recovery;
using Mezzo.Agent.Tasks;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>
/// Agent recovery with real processes: a real agent process killed with SIGKILL while its tasks run, then started again
/// on the same work dir and port (docs/agent-recovery.md). Tasks run under their supervisors meanwhile.
/// </summary>
public sealed partial class AgentRecoveryTests
{
    [Fact]
    public async Task An_agent_killed_with_sigkill_takes_back_its_50_tasks_and_reports_those_that_ended_meanwhile_once()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        var survivors = Enumerable.Range(0, 47).Select(i => $"keep-{i}").ToList();
        // Each ends on a signal from the test while no agent is running: by exit code 7, by exit code 0, by SIGKILL.
        var trap = "trap 'exit {0}' USR1; sleep 1000 & wait";
        var commands = survivors.ToDictionary(t => t, _ => "sleep 1000");
        commands["exit-7"] = string.Format(CultureInfo.InvariantCulture, trap, 7);
        commands["exit-0"] = string.Format(CultureInfo.InvariantCulture, trap, 0);
        commands["signaled"] = "sleep 1000";
        var offer = await scheduler.NextOfferAsync();
        await scheduler.AcceptAsync(offer, RecoveryCluster.Launch((string)offer["agent_id"]!["value"]!, commands));
        foreach (var task in commands.Keys)
        {
            await scheduler.WaitForUpdateAsync(task, "TASK_RUNNING");
        }

        await cluster.WaitForAllAcknowledgedAsync(commands.Count);
        await Poll.UntilAsync(() => cluster.TaskProcesses() is var running && commands.Keys.All(t => running.TryGetValue(t, out var p) && p.Any(x => x.Comm == "sleep")),
            "every task's command to run (its supervisor starts it just after TASK_RUNNING)");
        var supervisors = commands.Keys.ToDictionary(t => t, t => (int)scheduler.Updates(t).Last()["update"]!["status"]!["container_status"]!["executor_pid"]!);
        var before = cluster.TaskProcesses();
        before.Keys.Should().BeEquivalentTo(commands.Keys);

        cluster.KillAgent();
        SendSignal(before["exit-7"].Single(p => p.Comm == "sh").Pid, "USR1");
        SendSignal(before["exit-0"].Single(p => p.Comm == "sh").Pid, "USR1");
        SendSignal(before["signaled"].Single(p => p.Comm == "sh").Pid, "KILL");
        foreach (var ended in (string[])["exit-7", "exit-0", "signaled"])
        {
            await Poll.UntilAsync(() => !Directory.Exists($"/proc/{supervisors[ended]}"), $"the supervisor of {ended} to record its end and exit");
        }

        var mark = scheduler.Events.Count;
        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId, "the agent re-registers under its old id");

        var exit7 = await scheduler.WaitForUpdateAsync("exit-7", "TASK_FAILED");
        ((string?)exit7["update"]!["status"]!["message"]).Should().Be("Command exited with status 7");
        await scheduler.WaitForUpdateAsync("exit-0", "TASK_FINISHED");
        var signaled = await scheduler.WaitForUpdateAsync("signaled", "TASK_FAILED");
        ((string?)signaled["update"]!["status"]!["message"]).Should().StartWith("Command terminated with signal");

        var after = cluster.TaskProcesses();
        after.Keys.Should().BeEquivalentTo(survivors, "the 47 others ran on through the agent's death");
        foreach (var task in survivors)
        {
            after[task].Select(p => p.Pid).Should().BeEquivalentTo(before[task].Select(p => p.Pid), $"{task} is the same processes, not a relaunch");
        }

        var state = await cluster.MasterStateAsync();
        var tasks = state["frameworks"]!.AsArray().Single()!["tasks"]!.AsArray();
        tasks.Where(t => (string?)t!["state"] == "TASK_RUNNING").Select(t => (string?)t!["id"]).Should().BeEquivalentTo(survivors);

        // One update per state per task, over the whole run: nothing acknowledged was sent again.
        foreach (var task in commands.Keys)
        {
            var states = scheduler.Updates(task).Select(u => (string?)u["update"]!["status"]!["state"]).ToList();
            states.Should().OnlyHaveUniqueItems($"no update of {task} reaches the framework twice");
        }

        scheduler.Events.Skip(mark).Where(e => (string?)e["type"] == "UPDATE").Should().HaveCount(3, "only the three tasks that ended speak after the restart");

        // The adopted supervisors still answer: a kill goes through them.
        await scheduler.KillAsync("keep-0");
        await scheduler.WaitForUpdateAsync("keep-0", "TASK_KILLED");
        await Poll.UntilAsync(() => !cluster.TaskProcesses().ContainsKey("keep-0"), "keep-0's processes to end");
    }

    [Fact]
    public async Task An_image_task_runs_on_through_an_agent_restart_with_its_port_forwarded_and_goes_when_killed()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        var port = Ports.Free();
        await using var cluster = await RecoveryCluster.StartAsync("--image-rootfs-dir", images.Path, "--resources", $"cpus:8;mem:4096;disk:1024;ports:[{port}-{port}]");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        var resources = $$$"""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":64}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":{{{port}}},"end":{{{port}}}}]}}]""";
        var container = $$$"""{"type":"DOCKER","docker":{"image":"busybox","network":"BRIDGE","port_mappings":[{"host_port":{{{port}}},"container_port":80,"protocol":"tcp"}]}}""";
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "boxed", "mkdir /www && echo boxed > /www/index.html && exec httpd -f -p 80 -h /www",
            resources, extra: $"\"container\": {container},");
        await scheduler.WaitForUpdateAsync("boxed", "TASK_RUNNING");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var url = new Uri($"http://127.0.0.1:{port}/index.html");
        (await Poll.UntilAsync<string>(async () => await http.GetStringAsync(url), "the container's httpd through the host port")).Should().Be("boxed\n");
        var runcRoot = Path.Combine(cluster.AgentDir, "runc", "state");
        // TASK_RUNNING comes when runc starts; the container it creates shows up in its list a moment later.
        var id = await Poll.UntilAsync(() => Task.FromResult<string?>(Runc("--root", runcRoot, "list", "--quiet").Trim() is { Length: > 0 } listed ? listed : null), "runc to list the container");
        var init = JsonNode.Parse(Runc("--root", runcRoot, "state", id))!["pid"]!.GetValue<int>();

        cluster.KillAgent();
        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId);

        var state = JsonNode.Parse(Runc("--root", runcRoot, "state", id))!;
        ((string?)state["status"]).Should().Be("running");
        state["pid"]!.GetValue<int>().Should().Be(init, "the same container runs on");
        (await Poll.UntilAsync<string>(async () => await http.GetStringAsync(url), "the port forwarded again by the new agent")).Should().Be("boxed\n");
        await scheduler.KillAsync("boxed");
        await scheduler.WaitForUpdateAsync("boxed", "TASK_KILLED");
        await Poll.UntilAsync(() => Runc("--root", runcRoot, "list", "--quiet").Trim().Length == 0, "the container to be deleted");
        (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Should().NotContain(l => l.Contains(cluster.AgentDir, StringComparison.Ordinal), "its root file system is released");
        scheduler.Updates("boxed").Select(u => (string?)u["update"]!["status"]!["state"]).Should().Equal("TASK_STARTING", "TASK_RUNNING", "TASK_KILLED");

        // runc made the container's cgroups in every hierarchy (devices, freezer, ...): none of the agent's may stay.
        await cluster.DisposeAsync();
        var key = Mezzo.Agent.Isolation.CgroupIsolator.AgentKey(cluster.AgentDir);
        Mezzo.Agent.Isolation.CgroupIsolator.Mounts("/sys/fs/cgroup").Select(m => Path.Combine(m.MountPoint, "mezzo", key)).Where(Directory.Exists)
            .Should().BeEmpty("nothing of a killed agent's containers outlives the clean-up");
    }

    private static string Runc(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("runc") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    [Fact]
    public async Task Tasks_of_a_framework_without_checkpointing_die_with_a_restart_and_are_reported_lost()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "ephemeral", "sleep 1000");
        await scheduler.WaitForUpdateAsync("ephemeral", "TASK_RUNNING");
        Directory.EnumerateFiles(Path.Combine(cluster.AgentDir, "meta", "runs"), CheckpointStore.TaskFile, SearchOption.AllDirectories)
            .Should().BeEmpty("only checkpointing frameworks' tasks are checkpointed");

        cluster.KillAgent();
        await cluster.StartAgentAsync();

        var lost = await scheduler.WaitForUpdateAsync("ephemeral", "TASK_LOST");
        ((string?)lost["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_REREGISTERED");
        cluster.TaskProcesses().Should().BeEmpty("the restarted agent killed what it could not take back");
    }

    [Fact]
    public async Task After_a_host_reboot_the_agent_registers_as_new_and_the_old_agents_tasks_are_gone()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, partitionAware: true, checkpoint: true));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "before-reboot", "sleep 1000");
        await scheduler.WaitForUpdateAsync("before-reboot", "TASK_RUNNING");
        var oldAgent = cluster.AgentId;

        cluster.KillAgent();
        // A reboot changes the kernel's boot id; a real one also kills every process, which the agent must not rely on.
        CheckpointFile.Write(Path.Combine(cluster.AgentDir, "meta", "boot_id"), Encoding.UTF8.GetBytes(Guid.NewGuid().ToString()));
        await cluster.StartAgentAsync();

        var newAgent = await cluster.ActiveAgentIdAsync();
        newAgent.Should().NotBe(oldAgent);
        var gone = await scheduler.WaitForUpdateAsync("before-reboot", "TASK_GONE");
        ((string?)gone["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_REMOVED");
        ((string?)gone["update"]!["status"]!["agent_id"]!["value"]).Should().Be(oldAgent);
        cluster.TaskProcesses().Should().BeEmpty("nothing of a previous boot is taken back");
        var state = await cluster.MasterStateAsync();
        state["slaves"]!.AsArray().Select(s => (string?)s!["id"]).Should().Equal(newAgent);
    }

    [Fact]
    public async Task Recover_cleanup_kills_what_a_previous_run_left_and_exits()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "to-clean", "sleep 1000");
        await scheduler.WaitForUpdateAsync("to-clean", "TASK_RUNNING");
        cluster.KillAgent();

        await using var cleanup = MezzoProcess.Start("agent", "--recover", "cleanup", "--work-dir", cluster.AgentDir);
        (await cleanup.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, cleanup.Output);
        cleanup.Output.Should().Contain("--recover=cleanup: killed").And.Contain("containers");
        cluster.TaskProcesses().Should().BeEmpty();

        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId, "cleanup kills tasks, not the agent's identity");
        await scheduler.WaitForUpdateAsync("to-clean", "TASK_LOST");
    }

    [Fact]
    public async Task Without_an_agent_for_the_recovery_timeout_supervisors_kill_their_tasks()
    {
        await using var cluster = await RecoveryCluster.StartAsync("--recovery-timeout", "1secs");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "orphaned", "sleep 1000");
        await scheduler.WaitForUpdateAsync("orphaned", "TASK_RUNNING");
        cluster.TaskProcesses().Should().ContainKey("orphaned");

        cluster.KillAgent();
        await Poll.UntilAsync(() => cluster.TaskProcesses().Count == 0, "the supervisor to give up on the agent and kill its task", TimeSpan.FromSeconds(20));
        var record = Directory.EnumerateFiles(Path.Combine(cluster.AgentDir, "meta", "runs"), "exit", SearchOption.AllDirectories).Single();
        File.ReadAllText(record).Should().Contain("killed 9").And.Contain("recovery timeout");

        await cluster.StartAgentAsync();
        await scheduler.WaitForUpdateAsync("orphaned", "TASK_FAILED");
    }

    [Fact]
    public async Task A_corrupt_checkpoint_stops_a_strict_agent_and_is_moved_aside_by_a_lenient_one()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "damaged", "sleep 1000");
        await scheduler.WaitForUpdateAsync("damaged", "TASK_RUNNING");
        await cluster.WaitForAllAcknowledgedAsync(1);
        cluster.KillAgent();
        var checkpoint = Directory.EnumerateFiles(Path.Combine(cluster.AgentDir, "meta", "runs"), CheckpointStore.TaskFile, SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length - 10)]);

        // Not disposed here: disposing a process that ran an agent removes its cgroups, tasks included (the cluster does it last).
        var strict = cluster.StartAgentProcess();
        (await strict.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
        strict.Output.Should().Contain(checkpoint).And.Contain("truncated");

        cluster.TaskProcesses().Should().ContainKey("damaged", "a strict agent that refuses to start touches nothing");

        await cluster.StartAgentAsync("--strict", "false");
        File.Exists(checkpoint + ".corrupt").Should().BeTrue();
        cluster.AgentOutput.Should().Contain(checkpoint).And.Contain("truncated");
        await scheduler.WaitForUpdateAsync("damaged", "TASK_LOST");
        cluster.TaskProcesses().Should().BeEmpty("a task whose checkpoint is lost cannot be taken back, so it is killed");
    }

    [Fact]
    public async Task A_full_work_dir_fails_launches_and_agent_starts_clearly_and_recovery_works_once_space_frees()
    {
        using var tmpfs = await Tmpfs.MountAsync("8m");
        await using var cluster = await RecoveryCluster.StartWithAgentDirAsync(tmpfs.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "steady", "sleep 1000");
        await scheduler.WaitForUpdateAsync("steady", "TASK_RUNNING");
        await cluster.WaitForAllAcknowledgedAsync(1);
        var checkpoint = Directory.EnumerateFiles(Path.Combine(cluster.AgentDir, "meta", "runs"), CheckpointStore.TaskFile, SearchOption.AllDirectories).Single();

        var filler = tmpfs.Fill();
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "no-room", "true");
        var failed = await scheduler.WaitForUpdateAsync("no-room", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["message"]).Should().Contain("No space left on device");

        cluster.KillAgent();
        var refused = cluster.StartAgentProcess();
        (await refused.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
        refused.Output.Should().Contain("No space left on device");

        CheckpointFile.Read(checkpoint).Should().NotBeNull("the checkpoint written before the disk filled is whole");
        File.Delete(filler);
        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId);
        cluster.TaskProcesses().Should().ContainKey("steady");
        await scheduler.KillAsync("steady");
        await scheduler.WaitForUpdateAsync("steady", "TASK_KILLED");
    }

    [Fact]
    public async Task A_custom_executor_runs_on_through_an_agent_restart_resubscribes_with_what_it_sent_meanwhile_and_still_kills()
    {
        // Long enough for a slow restart of the agent; the executor retries at least every half of it.
        await using var cluster = await RecoveryCluster.StartAsync("--executor-reregistration-timeout", "10secs");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        var executor = ExecutorTests.CustomExecutor("survivor");
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), executor, ("kept", "run"), ("finished-meanwhile", "finish-on-file"));
        await scheduler.WaitForUpdateAsync("kept", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("finished-meanwhile", "TASK_RUNNING");
        var pid = ExecutorPid(cluster, "survivor");
        await WaitForExecutorCheckpointAsync(cluster, c => c["tasks"]!.AsArray().Count == 2 && c["tasks"]!.AsArray().All(t => t!["pending_updates"]!.AsArray().Count == 0),
            "both tasks' TASK_RUNNING acknowledged and checkpointed");
        var sandbox = ExecutorSandbox(cluster);

        cluster.KillAgent();
        await Poll.UntilAsync(() => EventTypes(sandbox).Contains("DISCONNECTED"), "the executor to notice its agent is gone");
        Directory.Exists($"/proc/{pid}").Should().BeTrue("the executor outlives its agent, under its supervisor");
        // The task ends while no agent is there: the executor cannot deliver its update and keeps it unacknowledged.
        await File.WriteAllTextAsync(Path.Combine(sandbox, "finish-finished-meanwhile"), "");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(sandbox, "stderr")) && File.ReadAllText(Path.Combine(sandbox, "stderr")).Contains("UPDATE failed", StringComparison.Ordinal),
            "the executor's UPDATE to fail while the agent is down");

        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId);
        await Poll.UntilAsync(() => EventTypes(sandbox).Count(t => t == "SUBSCRIBED") == 2, "the executor to subscribe again");
        var types = EventTypes(sandbox);
        types.Skip(types.IndexOf("DISCONNECTED")).Should().NotContain("LAUNCH", "nothing is launched twice on a re-subscribe");
        Directory.Exists($"/proc/{pid}").Should().BeTrue("it is the same executor process");

        var finished = await scheduler.WaitForUpdateAsync("finished-meanwhile", "TASK_FINISHED");
        ((string?)finished["update"]!["status"]!["message"]).Should().Be("finish file seen", "the update the executor kept came with its SUBSCRIBE");
        ((string?)finished["update"]!["status"]!["source"]).Should().Be("SOURCE_EXECUTOR");
        var state = await cluster.MasterStateAsync();
        var kept = state["frameworks"]!.AsArray().Single()!["tasks"]!.AsArray().Single(t => (string?)t!["id"] == "kept")!;
        ((string?)kept["state"]).Should().Be("TASK_RUNNING");

        await scheduler.KillAsync("kept");
        var killed = await scheduler.WaitForUpdateAsync("kept", "TASK_KILLED");
        ((string?)killed["update"]!["status"]!["message"]).Should().Be("killed by the test executor", "the kill went through the recovered executor");
        await WaitForExecutorCheckpointAsync(cluster, c => c["tasks"]!.AsArray().Count == 0 || c["tasks"]!.AsArray().All(t => t!["pending_updates"]!.AsArray().Count == 0),
            "every update acknowledged");
        scheduler.Updates("kept").Select(u => (string?)u["update"]!["status"]!["state"]).Should().Equal("TASK_RUNNING", "TASK_KILLED");
        scheduler.Updates("finished-meanwhile").Select(u => (string?)u["update"]!["status"]!["state"]).Should().Equal("TASK_RUNNING", "TASK_FINISHED");

        // With its last task gone the framework shuts it down; its checkpoint goes with it.
        var shutdown = new JsonObject
        {
            ["framework_id"] = new JsonObject { ["value"] = scheduler.FrameworkId },
            ["type"] = "SHUTDOWN",
            ["shutdown"] = new JsonObject { ["executor_id"] = new JsonObject { ["value"] = "survivor" }, ["agent_id"] = new JsonObject { ["value"] = cluster.AgentId } },
        };
        var (status, body) = await scheduler.CallAsync(shutdown.ToJsonString());
        status.Should().Be(System.Net.HttpStatusCode.Accepted, body);
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{pid}"), "the executor to exit on SHUTDOWN");
        await Poll.UntilAsync(() => ExecutorCheckpoints(cluster).Count == 0, "the executor's checkpoint to be removed once it is retired");
    }

    [Fact]
    public async Task A_recovered_executor_that_does_not_resubscribe_in_time_is_destroyed_and_its_tasks_fail()
    {
        await using var cluster = await RecoveryCluster.StartAsync("--executor-reregistration-timeout", "1secs");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        var executor = ExecutorTests.CustomExecutor("silent");
        executor["command"]!["environment"] = JsonNode.Parse("""{"variables":[{"name":"TEST_EXECUTOR_NO_RECONNECT","value":"1"}]}""");
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), executor, ("abandoned", "run"));
        await scheduler.WaitForUpdateAsync("abandoned", "TASK_RUNNING");
        var pid = ExecutorPid(cluster, "silent");
        var sandbox = ExecutorSandbox(cluster);

        cluster.KillAgent();
        await Poll.UntilAsync(() => EventTypes(sandbox).Contains("DISCONNECTED"), "the executor to notice its agent is gone");
        await cluster.StartAgentAsync();

        var failed = await scheduler.WaitForUpdateAsync("abandoned", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["reason"]).Should().Be("REASON_EXECUTOR_REREGISTRATION_TIMEOUT");
        ((string?)failed["update"]!["status"]!["message"]).Should().Be("Executor did not re-register within 1secs");
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{pid}"), "the executor to be destroyed");
        cluster.TaskProcesses().Should().BeEmpty("the executor and its supervisor are gone");
        EventTypes(sandbox).Count(t => t == "SUBSCRIBED").Should().Be(1);
    }

    [Fact]
    public async Task An_executor_that_died_while_the_agent_was_down_fails_its_tasks_at_the_restart()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), ExecutorTests.CustomExecutor("doomed"), ("orphan", "run"));
        await scheduler.WaitForUpdateAsync("orphan", "TASK_RUNNING");
        var pid = ExecutorPid(cluster, "doomed");
        await WaitForExecutorCheckpointAsync(cluster, c => c["tasks"]!.AsArray().All(t => t!["pending_updates"]!.AsArray().Count == 0), "TASK_RUNNING acknowledged");

        cluster.KillAgent();
        SendSignal(pid, "KILL");
        await Poll.UntilAsync(() => cluster.TaskProcesses().Count == 0, "the executor's supervisor to record its end and exit");
        await cluster.StartAgentAsync();

        var failed = await scheduler.WaitForUpdateAsync("orphan", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["reason"]).Should().Be("REASON_EXECUTOR_TERMINATED");
        ((string?)failed["update"]!["status"]!["message"]).Should().StartWith("Executor terminated: Command terminated with signal");
        scheduler.Updates("orphan").Select(u => (string?)u["update"]!["status"]!["state"]).Should().Equal("TASK_RUNNING", "TASK_FAILED");
        await Poll.UntilAsync(() => ExecutorCheckpoints(cluster).Count == 0, "the dead executor's checkpoint to be removed once its update is acknowledged");
    }

    [Fact]
    public async Task A_task_its_executor_never_received_before_the_agent_died_is_lost_when_the_executor_resubscribes()
    {
        await using var cluster = await RecoveryCluster.StartAsync("--executor-reregistration-timeout", "10secs");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        var executor = ExecutorTests.CustomExecutor("late");
        // The executor holds back its first SUBSCRIBE until the test has killed the agent: the launch stays queued.
        executor["command"]!["environment"] = JsonNode.Parse("""{"variables":[{"name":"TEST_EXECUTOR_WAIT_FOR","value":"go"}]}""");
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), executor, ("never-seen", "run"));
        await WaitForExecutorCheckpointAsync(cluster, c => (int)c["supervisor_pid"]! > 0 && c["tasks"]!.AsArray().Single()!["state"]!.GetValue<string>() == "TASK_STAGING",
            "the executor started, its task still staging");
        var sandbox = ExecutorSandbox(cluster);
        var pid = ExecutorPid(cluster, "late");

        cluster.KillAgent();
        await File.WriteAllTextAsync(Path.Combine(sandbox, "go"), "");
        await cluster.StartAgentAsync();

        var lost = await scheduler.WaitForUpdateAsync("never-seen", "TASK_LOST");
        ((string?)lost["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_RESTARTED");
        ((string?)lost["update"]!["status"]!["message"]).Should().Be("Task launched during agent restart");
        await Poll.UntilAsync(() => EventTypes(sandbox).Count > 0, "the executor to log its SUBSCRIBED");
        EventTypes(sandbox).Should().Equal(["SUBSCRIBED"], "the launch queued before the restart is not delivered after it");
        Directory.Exists($"/proc/{pid}").Should().BeTrue("the executor itself was taken back");
    }

    [Fact]
    public async Task A_task_group_of_the_default_executor_runs_on_through_an_agent_restart_and_keeps_its_group_semantics()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        var offer = await scheduler.NextOfferAsync();
        await TaskGroupTests.LaunchGroupAsync(scheduler, offer, TaskGroupTests.DefaultExecutor("group"),
            TaskGroupTests.GroupTask(offer, "steady", "sleep 1000"),
            TaskGroupTests.GroupTask(offer, "quitter", "trap 'exit 3' USR1; sleep 1000 & wait"));
        await scheduler.WaitForUpdateAsync("steady", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("quitter", "TASK_RUNNING");
        await WaitForExecutorCheckpointAsync(cluster, c => c["tasks"]!.AsArray() is { Count: 2 } tasks
            && tasks.All(t => t!["pending_updates"]!.AsArray().Count == 0 && (int)t["supervisor_pid"]! > 0 && (int?)t["group"] == 0), "both tasks running, in one group");
        var supervisors = ExecutorCheckpoints(cluster).Single()["tasks"]!.AsArray().ToDictionary(t => (string)t!["task"]!["task_id"]!["value"]!, t => (int)t!["supervisor_pid"]!);
        await Poll.UntilAsync(() => GroupTaskProcesses(cluster, "quitter").Any(p => p.Comm == "sh"), "the quitter's shell to run");

        cluster.KillAgent();
        SendSignal(GroupTaskProcesses(cluster, "quitter").Single(p => p.Comm == "sh").Pid, "USR1");
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{supervisors["quitter"]}"), "the quitter's supervisor to record its end and exit");
        Directory.Exists($"/proc/{supervisors["steady"]}").Should().BeTrue("the other task runs on without an agent");
        await cluster.StartAgentAsync();
        (await cluster.ActiveAgentIdAsync()).Should().Be(cluster.AgentId);

        var failed = await scheduler.WaitForUpdateAsync("quitter", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["message"]).Should().Be("Command exited with status 3", "its supervisor recorded how it ended");
        await scheduler.WaitForUpdateAsync("steady", "TASK_KILLED");
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{supervisors["steady"]}"), "the sibling's adopted supervisor to be killed with the group");
        cluster.TaskProcesses().Should().BeEmpty();
        scheduler.Updates("steady").Select(u => (string?)u["update"]!["status"]!["state"]).Should().Equal("TASK_STARTING", "TASK_RUNNING", "TASK_KILLED");
        scheduler.Updates("quitter").Select(u => (string?)u["update"]!["status"]!["state"]).Should().Equal("TASK_STARTING", "TASK_RUNNING", "TASK_FAILED");
        await Poll.UntilAsync(() => ExecutorCheckpoints(cluster).Count == 0, "the default executor's checkpoint to go once its group is done and acknowledged");
    }

    /// <summary>Processes of one task of a task group (their sandbox is the group's executor sandbox /tasks/&lt;id&gt;).</summary>
    private static List<(int Pid, string? Comm)> GroupTaskProcesses(RecoveryCluster cluster, string taskId) =>
        [.. OrphanReaper.FindTaskProcessesWithSandbox(cluster.AgentDir).Where(p => p.Sandbox.EndsWith("/tasks/" + taskId, StringComparison.Ordinal))
            .Select(p => (p.Pid, ReadComm(p.Pid)))];

    private static string? ReadComm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null; // it just exited
        }
    }

    [Fact]
    public async Task A_corrupt_executor_checkpoint_stops_a_strict_agent_and_a_lenient_one_kills_the_executor_it_cannot_trust()
    {
        await using var cluster = await RecoveryCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600, checkpoint: true));
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), ExecutorTests.CustomExecutor("damaged"), ("on-damaged", "run"));
        await scheduler.WaitForUpdateAsync("on-damaged", "TASK_RUNNING");
        await WaitForExecutorCheckpointAsync(cluster, c => c["tasks"]!.AsArray().All(t => t!["pending_updates"]!.AsArray().Count == 0), "TASK_RUNNING acknowledged");
        var pid = ExecutorPid(cluster, "damaged");
        cluster.KillAgent();
        var checkpoint = Directory.EnumerateFiles(Path.Combine(cluster.AgentDir, "meta", "runs"), CheckpointStore.ExecutorFile, SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(checkpoint);
        bytes[^3] ^= 0x55;
        File.WriteAllBytes(checkpoint, bytes);

        var strict = cluster.StartAgentProcess();
        (await strict.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
        strict.Output.Should().Contain(checkpoint);
        Directory.Exists($"/proc/{pid}").Should().BeTrue("a strict agent that refuses to start touches nothing");

        await cluster.StartAgentAsync("--strict", "false");
        File.Exists(checkpoint + ".corrupt").Should().BeTrue();
        await scheduler.WaitForUpdateAsync("on-damaged", "TASK_LOST");
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{pid}"), "the executor that cannot be taken back to be killed");
    }

    private static Task LaunchOnExecutorAsync(RawScheduler scheduler, JsonObject offer, JsonObject executor, params (string Id, string Mode)[] tasks) =>
        scheduler.AcceptAsync(offer, new JsonObject
        {
            ["type"] = "LAUNCH",
            ["launch"] = new JsonObject
            {
                ["task_infos"] = new JsonArray([.. tasks.Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Id,
                    ["task_id"] = new JsonObject { ["value"] = t.Id },
                    ["agent_id"] = offer["agent_id"]!.DeepClone(),
                    ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
                    ["executor"] = executor.DeepClone(),
                    ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(t.Mode)),
                })]),
            },
        });

    /// <summary>The executor's process as the host sees it (it reports its pid inside its own pid namespace).</summary>
    private static int ExecutorPid(RecoveryCluster cluster, string executorId) =>
        cluster.TaskProcesses()[executorId].Single(p => p.Comm == "dotnet").Pid;

    private static List<JsonNode> ExecutorCheckpoints(RecoveryCluster cluster) =>
        [.. Directory.EnumerateFiles(Path.Combine(cluster.AgentDir, "meta", "runs"), CheckpointStore.ExecutorFile, SearchOption.AllDirectories)
            .Select(f => JsonNode.Parse(CheckpointFile.Read(f)!)!)];

    private static Task WaitForExecutorCheckpointAsync(RecoveryCluster cluster, Func<JsonNode, bool> condition, string what) =>
        Poll.UntilAsync(() => ExecutorCheckpoints(cluster) is [var only] && condition(only), "the executor's checkpoint: " + what);

    /// <summary>The sandbox of the only executor run (the test executor logs its events there).</summary>
    private static string ExecutorSandbox(RecoveryCluster cluster) => (string)ExecutorCheckpoints(cluster).Single()["sandbox"]!;

    /// <summary>The types of the events the test executor received, in order (DISCONNECTED where its stream broke).</summary>
    private static List<string> EventTypes(string sandbox)
    {
        var log = Path.Combine(sandbox, "events.log");
        return File.Exists(log)
            ? [.. File.ReadAllLines(log).Where(l => l.Length > 0).Select(l => (string?)JsonNode.Parse(l)!["type"] ?? "")]
            : [];
    }

    [Fact]
    public async Task An_agent_that_cannot_recover_answers_503_not_500_while_it_listens()
    {
        using var dir = new TempDir();
        var options = new Mezzo.Agent.AgentOptions { Master = "127.0.0.1:1", Port = 0, WorkDir = dir.Path };
        var store = new CheckpointStore(dir.Path);
        Directory.CreateDirectory(store.MetaDir);
        File.WriteAllText(store.AgentIdFile, "{ not an agent id");
        await using var agent = Mezzo.Agent.AgentServer.Create(options);

        var start = () => agent.StartAsync();

        (await start.Should().ThrowAsync<CheckpointCorruptException>()).Which.Path.Should().Be(store.AgentIdFile);
        using var http = new HttpClient { BaseAddress = agent.Url };
        var state = await http.GetAsync("state");
        ((int)state.StatusCode).Should().Be(503);
        (await state.Content.ReadAsStringAsync()).Should().Be("Agent has not finished recovery");
        using var call = new StringContent("""{"type":"GET_HEALTH"}""", Encoding.UTF8, "application/json");
        ((int)(await http.PostAsync("api/v1", call)).StatusCode).Should().Be(503);
        (await http.GetAsync("health")).IsSuccessStatusCode.Should().BeTrue();
        var key = Mezzo.Agent.Isolation.CgroupIsolator.AgentKey(dir.Path);
        Directory.GetDirectories("/sys/fs/cgroup").Select(h => Path.Combine(h, "mezzo", key)).Where(Directory.Exists)
            .Should().BeEmpty("an agent that never started leaves no empty cgroup");
    }

    private static void SendSignal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        kill.ExitCode.Should().Be(0);
    }

    /// <summary>A master process and an agent process that the test kills and starts again on the same work dir and port.</summary>
    private sealed class RecoveryCluster : IAsyncDisposable
    {
        private readonly TempDir _dir = new();
        private readonly List<MezzoProcess> _agents = [];
        private readonly string[] _agentFlags;
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
        private MezzoProcess _master = null!;
        private int _agentPort;

        private RecoveryCluster(string? agentDir, string[] agentFlags)
        {
            AgentDir = agentDir ?? Path.Combine(_dir.Path, "agent");
            _agentFlags = agentFlags;
            var images = Array.IndexOf(agentFlags, "--image-rootfs-dir");
            _imagesDir = images >= 0 ? agentFlags[images + 1] : null;
        }

        private readonly string? _imagesDir;

        public string AgentDir { get; }

        public Uri MasterUrl { get; private set; } = null!;

        public string AgentId { get; private set; } = "";

        public string AgentOutput => _agents[^1].Output;

        public static Task<RecoveryCluster> StartAsync(params string[] agentFlags) => StartWithAgentDirAsync(null, agentFlags);

        public static async Task<RecoveryCluster> StartWithAgentDirAsync(string? agentDir, params string[] agentFlags)
        {
            var cluster = new RecoveryCluster(agentDir, agentFlags);
            try
            {
                cluster._master = MezzoProcess.Start("master", "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1",
                    "--work-dir", Path.Combine(cluster._dir.Path, "master"), "--allocation-interval", "20ms");
                cluster.MasterUrl = await cluster._master.WaitForUrlAsync();
                await cluster.StartAgentAsync();
                cluster.AgentId = await cluster.ActiveAgentIdAsync();
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        public MezzoProcess StartAgentProcess(params string[] extraFlags)
        {
            string[] resources = _agentFlags.Contains("--resources") ? [] : ["--resources", "cpus:8;mem:4096;disk:1024"];
            var agent = MezzoProcess.Start(["agent", "--master", $"127.0.0.1:{MasterUrl.Port}", "--port", _agentPort.ToString(CultureInfo.InvariantCulture),
                "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", AgentDir, "--allow-root-tasks", .. resources, .. _agentFlags, .. extraFlags]);
            _agents.Add(agent);
            return agent;
        }

        public async Task StartAgentAsync(params string[] extraFlags)
        {
            var url = await StartAgentProcess(extraFlags).WaitForUrlAsync();
            _agentPort = url.Port;
        }

        /// <summary>SIGKILL to the agent alone: its supervisors, and so its tasks, live on.</summary>
        public void KillAgent()
        {
            var agent = _agents[^1];
            agent.Kill9();
            agent.WaitForExitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        }

        public async Task<string> ActiveAgentIdAsync() =>
            (await Poll.UntilAsync(async () =>
            {
                var state = await MasterStateAsync();
                return state["slaves"]!.AsArray().Where(s => (bool?)s!["active"] == true).Select(s => (string?)s!["id"]).SingleOrDefault();
            }, "an active agent"))!;

        public async Task<JsonNode> MasterStateAsync() => JsonNode.Parse(await _http.GetStringAsync(new Uri(MasterUrl, "master/state")))!;

        /// <summary>Every status update the agent checkpointed has been acknowledged (so none is resent after a restart).</summary>
        public Task WaitForAllAcknowledgedAsync(int tasks) => Poll.UntilAsync(() =>
        {
            var checkpoints = Directory.EnumerateFiles(Path.Combine(AgentDir, "meta", "runs"), CheckpointStore.TaskFile, SearchOption.AllDirectories)
                .Select(f => JsonNode.Parse(CheckpointFile.Read(f)!)!).ToList();
            return checkpoints.Count == tasks && checkpoints.All(c => c["pending_updates"]!.AsArray().Count == 0);
        }, "every update to be acknowledged and checkpointed");

        /// <summary>Live task processes (supervisors included) by task id, found by the sandbox in their environment.</summary>
        public Dictionary<string, List<(int Pid, string Comm)>> TaskProcesses() =>
            OrphanReaper.FindTaskProcessesWithSandbox(AgentDir)
                .Select(p => (p.Pid, Task: TaskOf(p.Sandbox), Comm: Comm(p.Pid)))
                .Where(p => p.Comm is not null)
                .GroupBy(p => p.Task)
                .ToDictionary(g => g.Key, g => g.Select(p => (p.Pid, p.Comm!)).ToList());

        private static string TaskOf(string sandbox)
        {
            var parts = sandbox.Split('/');
            return parts[Array.LastIndexOf(parts, "executors") + 1];
        }

        private static string? Comm(int pid)
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/comm").Trim();
            }
            catch (IOException)
            {
                return null;
            }
        }

        public static JsonObject Launch(string agentId, IReadOnlyDictionary<string, string> commands) => new()
        {
            ["type"] = "LAUNCH",
            ["launch"] = new JsonObject
            {
                ["task_infos"] = new JsonArray([.. commands.Select(c => (JsonNode)new JsonObject
                {
                    ["name"] = c.Key,
                    ["task_id"] = new JsonObject { ["value"] = c.Key },
                    ["agent_id"] = new JsonObject { ["value"] = agentId },
                    ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.01}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
                    ["command"] = new JsonObject { ["shell"] = true, ["value"] = c.Value },
                })]),
            },
        };

        private bool _disposed;

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var agent in _agents)
            {
                await agent.DisposeAsync();
            }

            if (_master is not null)
            {
                await _master.DisposeAsync();
            }

            // Whatever a killed agent left, a failed test included: tasks, runc containers, root file system mounts.
            await Mezzo.Agent.AgentService.CleanupPreviousRunAsync(new Mezzo.Agent.AgentOptions { WorkDir = AgentDir, ImageRootfsDir = _imagesDir });
            _http.Dispose();
            _dir.Dispose();
        }
    }
}

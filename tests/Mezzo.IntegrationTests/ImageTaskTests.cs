using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Isolation;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Tasks with a container image, run by the agent through real runc over a busybox image made here.</summary>
public sealed partial class ImageTaskTests
{
    private const string DefaultResources = """[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":64}}]""";

    [Fact]
    public async Task An_image_task_runs_the_image_entrypoint_and_cmd_and_its_output_lands_in_the_sandbox()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "mezzo/echo:1", """{"config":{"Entrypoint":["/bin/echo","entrypoint"],"Cmd":["and","cmd"]}}""");
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ImageRootfsDir = images.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "echo", Docker("mezzo/echo:1"), """{"shell":false}""");

        var finished = await ExpectAsync(cluster, scheduler, "echo", "TASK_FINISHED");
        (await File.ReadAllTextAsync(Path.Combine(Sandbox(cluster, scheduler, finished, "echo"), "stdout"))).Should().Be("entrypoint and cmd\n");
        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task A_shell_command_runs_inside_the_image_in_its_own_pid_namespace_and_its_exit_code_comes_back()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", """{"config":{"Env":["FROM_IMAGE=yes"],"Cmd":["sh"]}}""");
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ImageRootfsDir = images.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        // ps lists /proc: only the container's own processes are there. The marker file proves the image's file system.
        const string script = "ps -o pid,comm | tail -n +2 > $MESOS_SANDBOX/ps; echo \"$FROM_IMAGE $MESOS_SANDBOX $(cat /etc/mezzo-image) $(pwd)\"; exit 3";
        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "shell", Docker("busybox"), new JsonObject { ["shell"] = true, ["value"] = script }.ToJsonString());

        var failed = await ExpectAsync(cluster, scheduler, "shell", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["message"]).Should().Be("Command exited with status 3");
        var sandbox = Sandbox(cluster, scheduler, failed, "shell");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout"))).Should().Be("yes /mnt/mesos/sandbox busybox /\n");
        var ps = (await File.ReadAllLinesAsync(Path.Combine(sandbox, "ps"))).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        ps[0].Should().Equal("1", "sh");
        ps.Count.Should().BeLessThanOrEqualTo(3, "only the shell, ps and the pipe's tail live in the container's pid namespace");
        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task Kill_forwards_SIGTERM_to_the_container_then_SIGKILLs_what_ignores_it_and_leaves_nothing_behind()
    {
        BusyboxImage.SkipUnlessUsable();
        HostCgroups.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.ImageRootfsDir = images.Path;
            o.DefaultKillGracePeriod = TimeSpan.FromMilliseconds(500);
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        var resources = """[{"name":"cpus","type":"SCALAR","scalar":{"value":0.2}},{"name":"mem","type":"SCALAR","scalar":{"value":64}}]""";

        // The container's init is a shell that traps TERM: it only ends if runc forwarded the signal.
        await LaunchAsync(scheduler, offer, "polite", Docker("busybox"), """{"shell":true,"value":"trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"}""", resources);
        var running = await ExpectAsync(cluster, scheduler, "polite", "TASK_RUNNING");
        var sandbox = Sandbox(cluster, scheduler, running, "polite");
        await Poll.UntilAsync(() => File.ReadAllText(Path.Combine(sandbox, "stdout")).Contains("ready", StringComparison.Ordinal), "the trap to be set");
        var politePid = await InitPidAsync(cluster, running);
        await scheduler.KillAsync("polite");
        await ExpectAsync(cluster, scheduler, "polite", "TASK_KILLED");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout"))).Should().Contain("got TERM");
        IsGone(politePid).Should().BeTrue();

        // sleep as pid 1 of a pid namespace ignores SIGTERM: after the grace period SIGKILL ends runc, and the
        // agent's clean-up deletes the container runc left running.
        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "stubborn", Docker("busybox"), """{"shell":false,"value":"sleep","arguments":["sleep","1000"]}""", resources);
        var stubborn = await ExpectAsync(cluster, scheduler, "stubborn", "TASK_RUNNING");
        var stubbornPid = await InitPidAsync(cluster, stubborn);
        var started = Stopwatch.StartNew();
        await scheduler.KillAsync("stubborn");
        await ExpectAsync(cluster, scheduler, "stubborn", "TASK_KILLED");
        started.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(450), "SIGKILL comes only after the grace period");
        IsGone(stubbornPid).Should().BeTrue("the container's sleep must not outlive its task");
        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task Sandbox_and_host_path_volumes_are_mounted_and_read_only_is_really_read_only()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        using var host = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(host.Path, "hello"), "from the host");
        BusyboxImage.Create(images.Path, "busybox", null);
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ImageRootfsDir = images.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        var container = Docker("busybox", volumes: """
            [{"container_path":"/ro","mode":"RO","source":{"type":"HOST_PATH","host_path":{"path":"@HOSTDIR@"}}},
             {"container_path":"/rw","mode":"RW","host_path":"@HOSTDIR@"},
             {"container_path":"/data","mode":"RW","source":{"type":"SANDBOX_PATH","sandbox_path":{"type":"SELF","path":"data"}}}]
            """.Replace("@HOSTDIR@", host.Path, StringComparison.Ordinal));
        const string script = "cat /ro/hello; echo; echo written > /data/out; echo rw > /rw/from-rw; if echo x > /ro/new 2>/dev/null; then echo RO-WRITABLE; else echo ro-refused; fi";
        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "volumes", container, new JsonObject { ["shell"] = true, ["value"] = script }.ToJsonString());

        var finished = await ExpectAsync(cluster, scheduler, "volumes", "TASK_FINISHED");
        var sandbox = Sandbox(cluster, scheduler, finished, "volumes");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout"))).Should().Be("from the host\nro-refused\n");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "data", "out"))).Should().Be("written\n");
        (await File.ReadAllTextAsync(Path.Combine(host.Path, "from-rw"))).Should().Be("rw\n");
        File.Exists(Path.Combine(host.Path, "new")).Should().BeFalse();
        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task A_bridge_port_mapping_reaches_a_server_in_the_containers_own_network_namespace()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        var port = Ports.Free();
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.ImageRootfsDir = images.Path;
            o.Resources = $"cpus:4;mem:4096;disk:10000;ports:[{port}-{port}]";
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        var resources = $$$"""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":64}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":{{{port}}},"end":{{{port}}}}]}}]""";
        var container = $$$"""{"type":"DOCKER","docker":{"image":"busybox","network":"BRIDGE","port_mappings":[{"host_port":{{{port}}},"container_port":80,"protocol":"tcp"}]}}""";
        // Nothing listens on port 80 of the host's loopback: only the forwarder can reach this httpd.
        const string script = "mkdir /www && echo hello-from-the-container > /www/index.html && cat /proc/net/dev | grep -c : > $MESOS_SANDBOX/interfaces && exec httpd -f -p 80 -h /www";
        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "web", container, new JsonObject { ["shell"] = true, ["value"] = script }.ToJsonString(), resources);

        var running = await ExpectAsync(cluster, scheduler, "web", "TASK_RUNNING");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var body = await Poll.UntilAsync<string>(async () => await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html")), "the container's httpd through the host port");
        body.Should().Be("hello-from-the-container\n");
        (await File.ReadAllTextAsync(Path.Combine(Sandbox(cluster, scheduler, running, "web"), "interfaces"))).Trim().Should().Be("1", "a BRIDGE container sees only its own loopback");

        await scheduler.KillAsync("web");
        await ExpectAsync(cluster, scheduler, "web", "TASK_KILLED");
        var connect = () => new TcpClient().ConnectAsync(IPAddress.Loopback, port);
        await connect.Should().ThrowAsync<SocketException>("the host port is released with the task");
        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task A_memory_hog_in_an_image_fails_with_REASON_CONTAINER_LIMITATION_MEMORY()
    {
        BusyboxImage.SkipUnlessUsable();
        HostCgroups.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ImageRootfsDir = images.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var resources = """[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]""";

        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "hog", Docker("busybox"), """{"shell":true,"value":"x=a; while true; do x=\"$x$x\"; done"}""", resources);

        var status = (await ExpectAsync(cluster, scheduler, "hog", "TASK_FAILED"))["update"]!["status"]!;
        ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LIMITATION_MEMORY", (string?)status["message"]);
        ((string?)status["message"]).Should().StartWith("Memory limit exceeded: Requested: 32MB");
        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task Launch_failures_are_TASK_FAILED_with_REASON_CONTAINER_LAUNCH_FAILED_naming_the_problem()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ImageRootfsDir = images.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        var cases = new (string Task, string Container, string Command, string Message)[]
        {
            ("missing", Docker("no/such:image"), """{"shell":false}""", $"Failed to launch container: Image 'no/such:image' not found: no directory {images.Path}/no_such_image*"),
            ("escape", Docker("busybox", volumes: """[{"container_path":"/x","mode":"RW","source":{"type":"SANDBOX_PATH","sandbox_path":{"type":"SELF","path":"../x"}}}]"""), """{"shell":false}""", "*SANDBOX_PATH volume for '/x': path '../x' must be relative to the sandbox, without '..'*"),
            ("no-command", Docker("busybox"), """{"shell":false}""", "*no command value given and the image has neither Entrypoint nor Cmd*"),
            ("no-binary", Docker("busybox"), """{"shell":false,"value":"/bin/not-there"}""", "*"),
            ("ghost-user", Docker("busybox"), """{"shell":true,"value":"true","user":"ghost"}""", "*User 'ghost' (from 'ghost') is not in the image's /etc/passwd*"),
            ("not-our-port", """{"type":"DOCKER","docker":{"image":"busybox","network":"BRIDGE","port_mappings":[{"host_port":1,"container_port":80}]}}""", """{"shell":false}""", "*host_port 1 is not among the task's ports resources*"),
        };
        foreach (var (task, container, command, _) in cases)
        {
            await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), task, container, command);
        }

        foreach (var (task, _, _, message) in cases)
        {
            var status = (await scheduler.WaitForUpdateAsync(task, "TASK_FAILED"))["update"]!["status"]!;
            if (task == "no-binary")
            {
                // runc itself reports it: the container's process could not start, so runc exits non-zero.
                ((string?)status["message"]).Should().StartWith("Command exited with status");
                continue;
            }

            ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LAUNCH_FAILED", task);
            ((string?)status["source"]).Should().Be("SOURCE_AGENT", task);
            ((string?)status["message"]).Should().Match(message, task);
        }

        await AssertNothingLeftAsync(cluster);
    }

    [Fact]
    public async Task An_agent_that_cannot_run_runc_fails_image_tasks_with_a_clear_message()
    {
        using var images = new TempDir();
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.ImageRootfsDir = images.Path;
            o.RuncPath = "/nonexistent/mezzo/runc";
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        var mesos = """{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"busybox"}}}}""";
        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "no-runc", mesos, """{"shell":false}""");

        var status = (await ExpectAsync(cluster, scheduler, "no-runc", "TASK_FAILED"))["update"]!["status"]!;
        ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
        ((string?)status["message"]).Should().Be("Failed to launch container: Cannot run image 'busybox' on this agent: runc not found at /nonexistent/mezzo/runc");
    }

    [Fact]
    public async Task Agent_shutdown_with_an_image_task_running_leaves_no_container_mount_cgroup_or_process()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ImageRootfsDir = images.Path);
        int pid;
        var agentDir = Path.Combine(cluster.WorkDir, "agent");
        try
        {
            await using var scheduler = new RawScheduler(cluster.MasterUrl);
            await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
            await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "long", Docker("busybox"), """{"shell":false,"value":"sleep","arguments":["sleep","1000"]}""");
            pid = await InitPidAsync(cluster, await ExpectAsync(cluster, scheduler, "long", "TASK_RUNNING"));
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        IsGone(pid).Should().BeTrue();
        (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Should().NotContain(l => l.Contains(agentDir, StringComparison.Ordinal));
        var key = CgroupIsolator.AgentKey(agentDir);
        Directory.GetDirectories("/sys/fs/cgroup").Select(h => Path.Combine(h, "mezzo", key)).Where(Directory.Exists)
            .Should().BeEmpty("the agent removes its cgroups in every hierarchy, runc's included, when it stops");
    }

    [Fact]
    public async Task A_previous_runs_leftover_container_is_deleted_at_agent_start()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", null);
        using var work = new TempDir();
        var state = Path.Combine(work.Path, "runc", "state");
        var bundle = Directory.CreateDirectory(Path.Combine(work.Path, "runc", "bundles", "leftover")).FullName;
        // A bundle as a crashed agent would have left it, over the image directly.
        Run("runc", "spec", "--bundle", bundle);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "config.json")))!;
        config["root"] = new JsonObject { ["path"] = Path.Combine(images.Path, "busybox_latest"), ["readonly"] = true };
        config["process"]!["terminal"] = false;
        config["process"]!["args"] = new JsonArray("sleep", "1000");
        await File.WriteAllTextAsync(Path.Combine(bundle, "config.json"), config.ToJsonString());
        // Detached, the container would keep a redirected stdout open forever: it gets /dev/null.
        Run("/bin/sh", "-c", $"runc --root {state} run --detach --bundle {bundle} leftover </dev/null >/dev/null 2>&1");
        var pid = (int)JsonNode.Parse(Run("runc", "--root", state, "state", "leftover"))!["pid"]!;
        IsGone(pid).Should().BeFalse();

        await using (var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.WorkDir = work.Path;
            o.ImageRootfsDir = images.Path;
        }))
        {
            Directory.Exists(Path.Combine(state, "leftover")).Should().BeFalse();
            Directory.Exists(bundle).Should().BeFalse();
            IsGone(pid).Should().BeTrue();
        }
    }

    private static readonly string[] Terminal = ["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED"];

    /// <summary>The update in <paramref name="state"/>; a different terminal state fails at once, with runc's stderr.</summary>
    private static async Task<JsonObject> ExpectAsync(InProcessCluster cluster, RawScheduler scheduler, string taskId, string state)
    {
        var update = await scheduler.WaitForAsync(
            e => (string?)e["type"] == "UPDATE" && (string?)e["update"]?["status"]?["task_id"]?["value"] == taskId
                && ((string?)e["update"]?["status"]?["state"] == state || Terminal.Contains((string?)e["update"]?["status"]?["state"])),
            $"{state} for {taskId}");
        var status = update["update"]!["status"]!;
        if ((string?)status["state"] != state)
        {
            var stderr = Path.Combine(Sandbox(cluster, scheduler, update, taskId), "stderr");
            Assert.Fail($"{taskId}: {status["state"]} ({status["message"]}) instead of {state}; stderr: {(File.Exists(stderr) ? await File.ReadAllTextAsync(stderr) : "(none)")}");
        }

        return update;
    }

    private static string Docker(string image, string? volumes = null) =>
        "{\"type\":\"DOCKER\",\"docker\":{\"image\":\"" + image + "\"}" + (volumes is null ? "" : ",\"volumes\":" + volumes) + "}";

    private static Task<(HttpStatusCode Status, string Body)> LaunchAsync(RawScheduler scheduler, JsonObject offer, string taskId, string container, string command, string resources = DefaultResources, string extraTaskFields = "") =>
        scheduler.CallAsync($$"""
            {
              "framework_id": {"value": "{{scheduler.FrameworkId}}"},
              "type": "ACCEPT",
              "accept": {
                "offer_ids": [{"value": "{{offer["id"]!["value"]}}"}],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                  "name": "{{taskId}}",
                  "task_id": {"value": "{{taskId}}"},
                  "agent_id": {"value": "{{offer["agent_id"]!["value"]}}"},
                  "resources": {{resources}},
                  "container": {{container}},
                  "command": {{command}}{{extraTaskFields}}
                }]} }],
                "filters": {"refuse_seconds": 0}
              }
            }
            """);

    private static string Sandbox(InProcessCluster cluster, RawScheduler scheduler, JsonObject update, string taskId) =>
        Path.Combine(cluster.SandboxRoot, (string)update["update"]!["status"]!["agent_id"]!["value"]!, "frameworks", scheduler.FrameworkId!, "executors", taskId, "runs", "latest");

    private static async Task<int> InitPidAsync(InProcessCluster cluster, JsonObject running)
    {
        var id = (string)running["update"]!["status"]!["container_status"]!["container_id"]!["value"]!;
        var state = Path.Combine(cluster.WorkDir, "agent", "runc", "state");
        var pid = await Poll.UntilAsync(() =>
        {
            var output = Run("runc", "--root", state, "state", id);
            return Task.FromResult<string?>(output.Length > 0 && JsonNode.Parse(output)?["pid"] is { } found && (int)found > 0 ? found.ToString() : null);
        }, "runc to report the container's init");
        return int.Parse(pid, CultureInfo.InvariantCulture);
    }

    private static bool IsGone(int pid) =>
        !File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] is "Z" or "X";

    /// <summary>No runc container, bundle, overlay mount or cgroup of the cluster's agent remains.</summary>
    private static async Task AssertNothingLeftAsync(InProcessCluster cluster)
    {
        var agentDir = Path.Combine(cluster.WorkDir, "agent");
        var state = Path.Combine(agentDir, "runc", "state");
        Run("runc", "--root", state, "list", "--quiet").Trim().Should().BeEmpty("every runc container is deleted with its task");
        var bundles = Path.Combine(agentDir, "runc", "bundles");
        (Directory.Exists(bundles) ? Directory.GetDirectories(bundles) : []).Should().BeEmpty();
        (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Should().NotContain(l => l.Contains(agentDir, StringComparison.Ordinal), "no rootfs or sandbox mount remains");
        var key = CgroupIsolator.AgentKey(agentDir);
        Directory.GetDirectories("/sys/fs/cgroup")
            .Select(h => Path.Combine(h, "mezzo", key))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetDirectories)
            .Should().BeEmpty("no container cgroup remains in any hierarchy, including those only runc uses");
    }

    private static string Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

}

/// <summary>Busybox images made from Debian's busybox-static: a root file system of applet links and a user database.</summary>
internal static class BusyboxImage
{
    private const string Busybox = "/bin/busybox";

    private static readonly string[] Applets =
        ["sh", "echo", "cat", "ls", "ps", "sleep", "id", "httpd", "nc", "wget", "true", "false", "mkdir", "grep", "tail", "pwd", "env", "kill", "hostname"];

    public static void SkipUnlessUsable() =>
        Assert.SkipUnless(
            Environment.IsPrivilegedProcess && File.Exists("/usr/sbin/runc") && File.Exists(Busybox) && !File.ReadAllText("/proc/self/status").Contains("NoNewPrivs:\t1", StringComparison.Ordinal),
            "Needs root, runc (/usr/sbin/runc) and a static busybox (/bin/busybox): apt-get install runc busybox-static.");

    /// <summary>Writes image <paramref name="name"/> the way --image-rootfs-dir expects it, with an optional image config.</summary>
    public static void Create(string imagesDir, string name, string? configJson)
    {
        var key = Mezzo.Agent.Containers.LocalImageResolver.Key(name);
        var rootfs = Path.Combine(imagesDir, key);
        var bin = Directory.CreateDirectory(Path.Combine(rootfs, "bin")).FullName;
        File.Copy(Busybox, Path.Combine(bin, "busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }

        var etc = Directory.CreateDirectory(Path.Combine(rootfs, "etc")).FullName;
        File.WriteAllText(Path.Combine(etc, "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n");
        File.WriteAllText(Path.Combine(etc, "group"), "root:x:0:\napp:x:1000:\n");
        File.WriteAllText(Path.Combine(etc, "mezzo-image"), name.Split(':')[0]);
        Directory.CreateDirectory(Path.Combine(rootfs, "tmp"));
        if (configJson is not null)
        {
            File.WriteAllText(Path.Combine(imagesDir, key + ".json"), configJson);
        }
    }
}

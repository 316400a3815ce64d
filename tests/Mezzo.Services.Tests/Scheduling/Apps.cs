using Mezzo.Core.Tasks;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.State;

namespace Mezzo.Services.Tests.Scheduling;

/// <summary>Small builders for apps and tasks in planner and matcher tests.</summary>
internal static class Apps
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static AppDefinition App(string json = """{"id":"/web","cmd":"x","cpus":0.5,"mem":64}""", string version = "v1")
    {
        var app = AppNormalizer.Normalize(AppJson.Parse(json));
        app.Version = version;
        app.VersionInfo = new VersionInfo { LastConfigChangeAt = version, LastScalingAt = version };
        return app;
    }

    public static AppDefinition With(this AppDefinition app, Action<AppDefinition> change)
    {
        var copy = app.Clone();
        change(copy);
        return copy;
    }

    public static Instance Task(string id, string config = "v1", TaskState state = TaskState.TASK_RUNNING, bool? healthy = null, int stagedSecond = 0, bool killing = false, string host = "h1") => new()
    {
        TaskId = id,
        AppId = "/web",
        Version = config,
        ConfigVersion = config,
        AgentId = "agent-" + host,
        Host = host,
        State = state,
        Healthy = healthy,
        StagedAt = T0.AddSeconds(stagedSecond),
        Killing = killing,
    };
}

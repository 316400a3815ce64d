using Mezzo.Master.State;

namespace Mezzo.Master.Actor;

/// <summary>What the framework proxy needs of a registered framework: whose it is and where its UI is.</summary>
public sealed record FrameworkProxyTarget(string? User, string? WebUiUrl);

public sealed partial class MasterActor
{
    /// <summary>
    /// Where the web UI's file proxy may send a request for <paramref name="agentId"/>: only an agent registered and
    /// not unreachable or gone, so the proxy never becomes a way to reach an arbitrary host. A master serving HTTPS
    /// belongs to a TLS cluster, whose agents serve HTTPS too.
    /// </summary>
    public Uri? AgentHttpAddress(string agentId) =>
        _agents.TryGetValue(agentId, out var agent) && agent.Liveness is AgentLiveness.Connected or AgentLiveness.Disconnected
            ? new UriBuilder(_options.Tls.ServesHttps ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, agent.Hostname, agent.Port).Uri
            : null;

    /// <summary>A registered framework's user and <c>webui_url</c>, for the framework proxy to check; null if none.</summary>
    public FrameworkProxyTarget? FrameworkProxyTarget(string frameworkId) =>
        _frameworks.TryGetValue(frameworkId, out var framework)
            ? new FrameworkProxyTarget(framework.Info.User, framework.Info.WebuiUrl)
            : null;
}

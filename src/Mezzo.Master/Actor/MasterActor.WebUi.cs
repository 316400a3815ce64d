using Mezzo.Master.State;

namespace Mezzo.Master.Actor;

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

    /// <summary>The <c>webui_url</c> of a registered framework that gave an absolute http(s) one, for the framework proxy.</summary>
    public Uri? FrameworkWebUiAddress(string frameworkId) =>
        _frameworks.TryGetValue(frameworkId, out var framework)
        && Uri.TryCreate(framework.Info.WebuiUrl, UriKind.Absolute, out var url)
        && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : null;
}

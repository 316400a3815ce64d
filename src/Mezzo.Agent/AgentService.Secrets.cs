namespace Mezzo.Agent;

public sealed partial class AgentService
{
    /// <summary>The agent's secret store (--secrets-dir), used on the actor when a task or executor starts.</summary>
    private Secrets.SecretStore _secrets => field ??= new Secrets.SecretStore(_options.SecretsDir);
}

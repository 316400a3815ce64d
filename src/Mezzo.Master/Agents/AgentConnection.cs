using Mezzo.Master.Streams;
using Mezzo.Protocol.Agents;

namespace Mezzo.Master.Agents;

public sealed class AgentConnection : OutboundStream<AgentEvent>;

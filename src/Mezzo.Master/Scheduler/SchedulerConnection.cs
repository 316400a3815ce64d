using Mezzo.Master.Streams;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Scheduler;

public sealed class SchedulerConnection : OutboundStream<Event>;

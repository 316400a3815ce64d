using Mezzo.Hosting.Logging;
using Mezzo.Protocol.Conversion;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Http;

/// <summary>GET_LOGGING_LEVEL / SET_LOGGING_LEVEL: the agent process's verbosity, raised for a duration as in Mesos.</summary>
public static partial class OperatorEndpoint
{
    /// <summary>The verbosity the process's logging filter reads, and where its changes are logged.</summary>
    public sealed record Logging(LogVerbosity Verbosity, ILogger Log)
    {
        /// <summary>Validated already (<see cref="ReadCallValidation.SetLoggingLevel"/>): level and a positive duration.</summary>
        public IResult Set(MasterCallSetLoggingLevel set)
        {
            ArgumentNullException.ThrowIfNull(set);
            LoggingToggle.Apply(Verbosity, set.Level!.Value, ReadCallValidation.DurationOf(set), Log);
            return Results.Ok();
        }

        /// <summary>Mesos's "Processing call X", at verbosity 1 (Debug).</summary>
        public void Processing(AgentOperatorCallType type) => LogCalls.Processing(Log, type);
    }

    private static partial class LogCalls
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Processing call {Type}")]
        public static partial void Processing(ILogger logger, AgentOperatorCallType type);
    }
}

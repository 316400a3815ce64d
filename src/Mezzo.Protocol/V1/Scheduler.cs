namespace Mezzo.Protocol.V1;

public enum CallType
{
    UNKNOWN = 0,
    SUBSCRIBE = 1,
    TEARDOWN = 2,
    ACCEPT = 3,
    DECLINE = 4,
    ACCEPT_INVERSE_OFFERS = 13,
    DECLINE_INVERSE_OFFERS = 14,
    REVIVE = 5,
    KILL = 6,
    SHUTDOWN = 7,
    ACKNOWLEDGE = 8,
    ACKNOWLEDGE_OPERATION_STATUS = 15,
    RECONCILE = 9,
    RECONCILE_OPERATIONS = 16,
    MESSAGE = 10,
    REQUEST = 11,
    SUPPRESS = 12,
    UPDATE_FRAMEWORK = 17,
}

public sealed class CallSubscribe
{
    public FrameworkInfo? FrameworkInfo { get; set; }

    public List<string>? SuppressedRoles { get; set; }

    public OfferConstraints? OfferConstraints { get; set; }
}

public sealed class CallAccept
{
    public List<OfferID>? OfferIds { get; set; }

    public List<OfferOperation>? Operations { get; set; }

    public Filters? Filters { get; set; }
}

public sealed class CallDecline
{
    public List<OfferID>? OfferIds { get; set; }

    public Filters? Filters { get; set; }
}

/// <summary>scheduler.proto <c>Call.AcceptInverseOffers</c> and <c>Call.DeclineInverseOffers</c>.</summary>
public sealed class CallInverseOffers
{
    public List<OfferID>? InverseOfferIds { get; set; }

    public Filters? Filters { get; set; }
}

public sealed class CallRevive
{
    public List<string>? Roles { get; set; }
}

public sealed class CallSuppress
{
    public List<string>? Roles { get; set; }
}

public sealed class CallKill
{
    public TaskID? TaskId { get; set; }

    public AgentID? AgentId { get; set; }

    public KillPolicy? KillPolicy { get; set; }
}

public sealed class CallShutdown
{
    public ExecutorID? ExecutorId { get; set; }

    public AgentID? AgentId { get; set; }
}

public sealed class CallAcknowledge
{
    public AgentID? AgentId { get; set; }

    public TaskID? TaskId { get; set; }

    public byte[]? Uuid { get; set; }
}

public sealed class CallReconcileTask
{
    public TaskID? TaskId { get; set; }

    public AgentID? AgentId { get; set; }
}

public sealed class CallReconcile
{
    public List<CallReconcileTask>? Tasks { get; set; }
}

public sealed class CallMessage
{
    public AgentID? AgentId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public byte[]? Data { get; set; }
}

public sealed class CallUpdateFramework
{
    public FrameworkInfo? FrameworkInfo { get; set; }

    public List<string>? SuppressedRoles { get; set; }

    public OfferConstraints? OfferConstraints { get; set; }
}

/// <summary>scheduler.proto's Call: what a scheduler POSTs to /api/v1/scheduler.</summary>
public sealed class Call
{
    public FrameworkID? FrameworkId { get; set; }

    public CallType? Type { get; set; }

    public CallSubscribe? Subscribe { get; set; }

    public CallAccept? Accept { get; set; }

    public CallDecline? Decline { get; set; }

    public CallInverseOffers? AcceptInverseOffers { get; set; }

    public CallInverseOffers? DeclineInverseOffers { get; set; }

    public CallRevive? Revive { get; set; }

    public CallKill? Kill { get; set; }

    public CallShutdown? Shutdown { get; set; }

    public CallAcknowledge? Acknowledge { get; set; }

    public CallReconcile? Reconcile { get; set; }

    public CallMessage? Message { get; set; }

    public CallSuppress? Suppress { get; set; }

    public CallUpdateFramework? UpdateFramework { get; set; }
}

public enum EventType
{
    UNKNOWN = 0,
    SUBSCRIBED = 1,
    OFFERS = 2,
    INVERSE_OFFERS = 9,
    RESCIND = 3,
    RESCIND_INVERSE_OFFER = 10,
    UPDATE = 4,
    UPDATE_OPERATION_STATUS = 11,
    MESSAGE = 5,
    FAILURE = 6,
    ERROR = 7,
    HEARTBEAT = 8,
}

public sealed class EventSubscribed
{
    public FrameworkID? FrameworkId { get; set; }

    public double? HeartbeatIntervalSeconds { get; set; }

    public MasterInfo? MasterInfo { get; set; }
}

public sealed class EventOffers
{
    public List<Offer>? Offers { get; set; }
}

public sealed class EventRescind
{
    public OfferID? OfferId { get; set; }
}

public sealed class EventInverseOffers
{
    public List<InverseOffer>? InverseOffers { get; set; }
}

public sealed class EventRescindInverseOffer
{
    public OfferID? InverseOfferId { get; set; }
}

public sealed class EventUpdate
{
    public TaskStatus? Status { get; set; }
}

public sealed class EventUpdateOperationStatus
{
    public OperationStatus? Status { get; set; }
}

public sealed class EventMessage
{
    public AgentID? AgentId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public byte[]? Data { get; set; }
}

public sealed class EventFailure
{
    public AgentID? AgentId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public int? Status { get; set; }
}

public sealed class EventError
{
    public string? Message { get; set; }
}

/// <summary>scheduler.proto's Event: one RecordIO record of the SUBSCRIBE stream.</summary>
public sealed class Event
{
    public EventType? Type { get; set; }

    public EventSubscribed? Subscribed { get; set; }

    public EventOffers? Offers { get; set; }

    public EventInverseOffers? InverseOffers { get; set; }

    public EventRescind? Rescind { get; set; }

    public EventRescindInverseOffer? RescindInverseOffer { get; set; }

    public EventUpdate? Update { get; set; }

    public EventUpdateOperationStatus? UpdateOperationStatus { get; set; }

    public EventMessage? Message { get; set; }

    public EventFailure? Failure { get; set; }

    public EventError? Error { get; set; }
}

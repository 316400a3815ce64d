using System.Threading.Channels;

namespace Mezzo.Master.Streams;

/// <summary>
/// Events queued by the actor for one long-lived HTTP response (a scheduler or agent subscription). The actor only
/// enqueues; the HTTP handler drains and writes, so a slow client never blocks the actor.
/// </summary>
public class OutboundStream<T>
{
    private readonly Channel<T> _events = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });

    public string StreamId { get; } = Guid.NewGuid().ToString();

    public ChannelReader<T> Reader => _events.Reader;

    public bool IsClosed { get; private set; }

    public void Send(T value) => _events.Writer.TryWrite(value);

    /// <summary>Ends the stream after the queued events (and <paramref name="last"/>) have been written.</summary>
    public void Close(T? last = default)
    {
        if (IsClosed)
        {
            return;
        }

        if (last is not null)
        {
            _events.Writer.TryWrite(last);
        }

        IsClosed = true;
        _events.Writer.TryComplete();
    }
}

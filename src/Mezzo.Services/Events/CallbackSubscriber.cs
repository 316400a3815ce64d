using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Events;

/// <summary>How events are delivered to one HTTP callback subscriber.</summary>
public sealed record CallbackSettings(int Queue, TimeSpan Timeout, int Attempts, TimeSpan FirstRetryDelay);

/// <summary>
/// One HTTP callback subscriber (Marathon's --event_subscriber http_callback): events are POSTed to its URL as JSON,
/// one at a time and in order, from a bounded queue of its own, so a slow or dead subscriber only ever delays itself.
/// A failed POST is retried with doubling backoff; after the last attempt the event is dropped (as Marathon drops it)
/// and the next one goes. When the queue is full the oldest waiting event is dropped.
/// </summary>
public sealed partial class CallbackSubscriber : IAsyncDisposable
{
    private static readonly HttpClient SharedHttp = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    private readonly Channel<string> _queue;
    private readonly CallbackSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _delivered;
    private long _failed;

    public CallbackSubscriber(Uri url, CallbackSettings settings, TimeProvider time, ILogger log, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Url = url;
        _settings = settings;
        _time = time;
        _log = log;
        _http = http ?? SharedHttp;
        _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(Math.Max(1, settings.Queue)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _loop = Task.Run(RunAsync);
    }

    public Uri Url { get; }

    /// <summary>Events this subscriber answered with a 2xx.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Events dropped after every attempt failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Queues an event; never blocks (a full queue drops its oldest).</summary>
    public void Offer(string json) => _queue.Writer.TryWrite(json);

    private async Task RunAsync()
    {
        try
        {
            await foreach (var json in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                await DeliverAsync(json).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(string json)
    {
        var delay = _settings.FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var failure = await PostAsync(json).ConfigureAwait(false);
            if (failure is null)
            {
                Interlocked.Increment(ref _delivered);
                return;
            }

            if (attempt >= _settings.Attempts)
            {
                Interlocked.Increment(ref _failed);
                Log.Dropped(_log, Url.ToString(), attempt, failure);
                return;
            }

            Log.Retrying(_log, Url.ToString(), attempt, failure, delay.TotalSeconds);
            await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
            delay *= 2;
        }
    }

    /// <summary>One POST; null when the subscriber took it, else why not.</summary>
    private async Task<string?> PostAsync(string json)
    {
        using var timeout = new CancellationTokenSource(_settings.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, timeout.Token);
        try
        {
            using var content = new StringContent(json, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.PostAsync(Url, content, linked.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : "HTTP " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            return $"no answer within {_settings.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Event callback to {Url} failed (attempt {Attempt}: {Failure}); retrying in {DelaySeconds}s")]
        public static partial void Retrying(ILogger logger, string url, int attempt, string failure, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Event callback to {Url} dropped after {Attempts} attempts: {Failure}")]
        public static partial void Dropped(ILogger logger, string url, int attempts, string failure);
    }
}

using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Mezzo.Services.Events;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Engine;

/// <summary>
/// HTTP callback event subscriptions (/v2/eventSubscriptions): the subscribers' URLs are stored, and every event the
/// actor emits is handed to each subscriber's own delivery queue, which never blocks the actor.
/// </summary>
public sealed partial class ServicesActor
{
    private readonly Dictionary<string, CallbackSubscriber> _callbacks = new(StringComparer.Ordinal);
    private ImmutableList<string> _callbackUrls = [];

    private CallbackSettings CallbackSettings => new(_options.CallbackQueue, _options.CallbackTimeout, Math.Max(1, _options.CallbackAttempts), TimeSpan.FromSeconds(1));

    private void StartCallbacks()
    {
        if (!_options.HttpCallbacks)
        {
            return;
        }

        foreach (var url in _store.LoadEventSubscriptions().Where(Http.EventSubscriptionsEndpoints.IsValid))
        {
            AddCallback(url);
        }
    }

    private void AddCallback(string url)
    {
        _callbacks[url] = new CallbackSubscriber(new Uri(url), CallbackSettings, _time, _loggers.CreateLogger<CallbackSubscriber>());
        _callbackUrls = _callbackUrls.Add(url);
    }

    private void DeliverToCallbacks(ServicesEvent ev)
    {
        foreach (var subscriber in _callbacks.Values)
        {
            subscriber.Offer(ev.Json);
        }
    }

    /// <summary>POST /v2/eventSubscriptions: adds (idempotently) and stores the subscriber; its subscribe_event is the answer.</summary>
    public Task<JsonObject> SubscribeCallbackAsync(string clientIp, string callbackUrl) => AskAsync(() =>
    {
        if (!_callbacks.ContainsKey(callbackUrl))
        {
            var urls = _callbackUrls.Add(callbackUrl);
            _store.Write(batch => batch.PutEventSubscriptions(urls));
            AddCallback(callbackUrl);
        }

        return EmitAndReturn("subscribe_event", new JsonObject { ["clientIp"] = clientIp, ["callbackUrl"] = callbackUrl });
    });

    /// <summary>DELETE /v2/eventSubscriptions: removes the subscriber (if it was one); its unsubscribe_event is the answer.</summary>
    public Task<JsonObject> UnsubscribeCallbackAsync(string clientIp, string callbackUrl) => AskAsync(() =>
    {
        if (_callbacks.Remove(callbackUrl, out var subscriber))
        {
            var urls = _callbackUrls.Remove(callbackUrl);
            _store.Write(batch => batch.PutEventSubscriptions(urls));
            _callbackUrls = urls;
            // Off the actor: stopping waits for a POST in flight.
            _ = Task.Run(async () => await subscriber.DisposeAsync().ConfigureAwait(false));
        }

        return EmitAndReturn("unsubscribe_event", new JsonObject { ["clientIp"] = clientIp, ["callbackUrl"] = callbackUrl });
    });

    private JsonObject EmitAndReturn(string type, JsonObject data)
    {
        Emit(type, data);
        return (JsonObject)data.DeepClone();
    }

    private async Task StopCallbacksAsync()
    {
        foreach (var subscriber in _callbacks.Values)
        {
            await subscriber.DisposeAsync().ConfigureAwait(false);
        }

        _callbacks.Clear();
    }
}

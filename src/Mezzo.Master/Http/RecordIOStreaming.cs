using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Mezzo.Master.Http;

/// <summary>Writes a channel of events as a chunked RecordIO response until either side ends it.</summary>
public static class RecordIOStreaming
{
    public static async Task WriteAsync<T>(HttpContext context, string streamId, ChannelReader<T> events, Func<T, byte[]> serialize)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = HttpBodies.Json;
        response.Headers["Mesos-Stream-Id"] = streamId;
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(context.RequestAborted);
        var writer = response.BodyWriter;
        try
        {
            while (await events.WaitToReadAsync(context.RequestAborted))
            {
                // Drain whatever is queued, then flush once: one syscall per burst, not per event.
                while (events.TryRead(out var item))
                {
                    Protocol.RecordIO.RecordIOFraming.Write(writer, serialize(item));
                }

                var flushed = await writer.FlushAsync(context.RequestAborted);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Client went away.
        }
        catch (IOException)
        {
            // Connection reset mid-write.
        }
    }
}

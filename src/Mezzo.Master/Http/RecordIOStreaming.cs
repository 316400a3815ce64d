using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Mezzo.Master.Http;

/// <summary>Writes a channel of events as a chunked RecordIO response until either side ends it.</summary>
public static class RecordIOStreaming
{
    public static async Task WriteAsync<T>(HttpContext context, string streamId, ChannelReader<T> events, JsonTypeInfo<T> type)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = HttpBodies.Json;
        response.Headers["Mesos-Stream-Id"] = streamId;
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(context.RequestAborted);
        var writer = response.BodyWriter;
        // One record buffer and one JSON writer for the life of the stream, reused for every event: a record's length
        // must be known before its bytes go out, and a byte[] per event was most of this loop's garbage.
        var record = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(record, new JsonWriterOptions { Encoder = type.Options.Encoder, SkipValidation = true });
        try
        {
            while (await events.WaitToReadAsync(context.RequestAborted))
            {
                // Drain whatever is queued, then flush once: one syscall per burst, not per event.
                while (events.TryRead(out var item))
                {
                    record.ResetWrittenCount();
                    json.Reset(record);
                    JsonSerializer.Serialize(json, item, type);
                    json.Flush();
                    Protocol.RecordIO.RecordIOFraming.Write(writer, record.WrittenSpan);
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

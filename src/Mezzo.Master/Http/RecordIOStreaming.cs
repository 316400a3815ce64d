using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.RecordIO;
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
        // Mesos frames each record in the negotiated type and labels the stream with it (not application/recordio).
        var format = HttpBodies.ResponseFormat(context);
        response.ContentType = ContentNegotiation.MediaType(format);
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
                    if (format == WireFormat.Protobuf)
                    {
                        RecordIOFraming.Write(writer, MesosProtobuf.Serialize(item));
                    }
                    else
                    {
                        WriteRecord(writer, item, type);
                    }
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

    // A record's length must be known before its bytes go out, so each event is serialized into a scratch buffer
    // first. One scratch buffer and JSON writer per thread, used without an await in between: no byte[] per event
    // (most of this loop's garbage before) and nothing held by the thousand idle streams of a thousand agents.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_record;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private static void WriteRecord<T>(IBufferWriter<byte> writer, T item, JsonTypeInfo<T> type)
    {
        var record = t_record ??= new ArrayBufferWriter<byte>(4096);
        var json = t_json is { } cached && cached.Options.Encoder == type.Options.Encoder
            ? cached
            : t_json = new Utf8JsonWriter(record, new JsonWriterOptions { Encoder = type.Options.Encoder, SkipValidation = true });
        record.ResetWrittenCount();
        json.Reset(record);
        JsonSerializer.Serialize(json, item, type);
        json.Flush();
        RecordIOFraming.Write(writer, record.WrittenSpan);
        if (record.Capacity > 1024 * 1024)
        {
            // A huge event (a large offer batch) should not pin its buffer to the thread forever.
            t_record = null;
            t_json = null;
        }
    }
}

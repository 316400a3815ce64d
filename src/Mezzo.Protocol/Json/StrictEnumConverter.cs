using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mezzo.Protocol.Json;

/// <summary>
/// Enums travel as their proto names ("TASK_RUNNING"), exactly as Mesos writes them. Reading is strict: numbers,
/// numeric strings, other casing and unknown names are a <see cref="JsonException"/>, which the endpoints turn into a
/// 400 naming the bad value, the way Mesos rejects an unknown enum.
/// </summary>
public sealed class StrictEnumConverter<T> : JsonConverter<T>
    where T : struct, Enum
{
    private static readonly Dictionary<string, T> ByName = Enum.GetValues<T>().ToDictionary(v => v.ToString(), StringComparer.Ordinal);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a string for {typeof(T).Name}, got {reader.TokenType}");
        }

        var name = reader.GetString()!;
        if (!ByName.TryGetValue(name, out var value))
        {
            throw new JsonException($"Unknown {typeof(T).Name} value '{name}'");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

public sealed class StrictEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(StrictEnumConverter<>).MakeGenericType(typeToConvert))!;
}

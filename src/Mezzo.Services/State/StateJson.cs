using System.Text.Json.Serialization;

namespace Mezzo.Services.State;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Instance))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Deployment))]
internal sealed partial class StateJsonContext : JsonSerializerContext;

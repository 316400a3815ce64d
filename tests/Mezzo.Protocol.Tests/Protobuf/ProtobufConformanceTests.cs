using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using Mezzo.Protocol.Protobuf;

namespace Mezzo.Protocol.Tests.Protobuf;

/// <summary>
/// Walks every JSON property reachable from each protobuf-capable wire type alongside the descriptor of the vendored
/// Mesos .proto it maps to: each name must be a field of that message, with the same cardinality and a matching kind
/// (message, enum, string, bytes, number, bool). A POCO field missing from the .proto would be dropped silently on the
/// protobuf path, and a kind mismatch would fail at run time, so both are caught here.
/// </summary>
public sealed class ProtobufConformanceTests
{
    public static TheoryData<string> Roots => [.. MesosProtobuf.Descriptors.Keys.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Roots))]
    public void Every_json_field_is_a_proto_field_of_the_same_kind(string root)
    {
        var (type, descriptor) = MesosProtobuf.Descriptors.Single(p => p.Key.Name == root);
        var problems = new List<string>();

        Walk(type, descriptor, problems, []);
        problems.RemoveAll(KnownGaps.Contains);

        string.Join("\n", problems).Should().BeEmpty();
    }

    /// <summary>
    /// Differences kept on purpose, each named: master.proto's DRAIN_AGENT takes a google.protobuf.Duration, which the
    /// POCO models as a DurationInfo (the JSON the operator docs show), so a protobuf DRAIN_AGENT with a grace period is
    /// refused with a 400 rather than misread.
    /// </summary>
    private static readonly HashSet<string> KnownGaps =
    [
        "google.protobuf.Duration has no field 'nanoseconds' (DurationInfo.nanoseconds)",
    ];

    [Fact]
    public void Walk_reports_a_misspelled_field()
    {
        var problems = new List<string>();

        // FrameworkID has "value"; TaskStatus's "state" is not a field of mesos.v1.FrameworkID.
        Walk(typeof(V1.TaskStatus), Mesos.V1.FrameworkID.Descriptor, problems, []);

        problems.Should().Contain(p => p.Contains("mesos.v1.FrameworkID has no field 'state'"));
    }

    private static void Walk(Type type, MessageDescriptor descriptor, List<string> problems, HashSet<(Type, string)> seen)
    {
        if (!seen.Add((type, descriptor.FullName)))
        {
            return;
        }

        var info = MesosJsonContext.Default.GetTypeInfo(type);
        if (info is null)
        {
            problems.Add($"{type.Name} is not reachable from MesosJsonContext");
            return;
        }

        foreach (var property in info.Properties)
        {
            var field = descriptor.FindFieldByName(property.Name);
            if (field is null)
            {
                problems.Add($"{descriptor.FullName} has no field '{property.Name}' ({type.Name}.{property.Name})");
                continue;
            }

            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var element = ElementType(propertyType);
            var where = $"{type.Name}.{property.Name} vs {field.FullName}";
            if (typeof(JsonNode).IsAssignableFrom(propertyType))
            {
                // Opaque pass-through (e.g. DiscoveryInfo): JSON on both sides, carried as is.
                continue;
            }

            if (field.IsMap)
            {
                // A proto map is a JSON object: the POCO is a dictionary keyed by string.
                var valueField = field.MessageType.FindFieldByName("value");
                var valueType = propertyType.IsGenericType ? propertyType.GetGenericArguments()[^1] : null;
                if (valueType is null || !propertyType.Name.StartsWith("Dictionary", StringComparison.Ordinal))
                {
                    problems.Add($"{where}: the proto has a map, the POCO {propertyType.Name}");
                }
                else if (valueField.FieldType == FieldType.Message)
                {
                    Walk(valueType, valueField.MessageType, problems, seen);
                }

                continue;
            }

            if ((element is not null) != field.IsRepeated)
            {
                problems.Add($"{where}: repeated {field.IsRepeated} in the proto");
                continue;
            }

            var scalar = element ?? propertyType;
            scalar = Nullable.GetUnderlyingType(scalar) ?? scalar;
            switch (field.FieldType)
            {
                case FieldType.Message or FieldType.Group:
                    if (scalar.IsPrimitive || scalar == typeof(string) || scalar.IsEnum)
                    {
                        problems.Add($"{where}: the proto has message {field.MessageType.FullName}, the POCO {scalar.Name}");
                    }
                    else if (!typeof(JsonNode).IsAssignableFrom(scalar))
                    {
                        Walk(scalar, field.MessageType, problems, seen);
                    }

                    break;
                case FieldType.Enum:
                    if (!scalar.IsEnum)
                    {
                        problems.Add($"{where}: the proto has enum {field.EnumType.FullName}, the POCO {scalar.Name}");
                    }
                    else
                    {
                        var protoNames = field.EnumType.Values.Select(v => (v.Name, v.Number)).ToHashSet();
                        foreach (var value in Enum.GetValues(scalar))
                        {
                            if (!protoNames.Contains((value.ToString()!, Convert.ToInt32(value, null))))
                            {
                                problems.Add($"{where}: {field.EnumType.FullName} has no {value} = {Convert.ToInt32(value, null)}");
                            }
                        }
                    }

                    break;
                case FieldType.String:
                    Expect(scalar == typeof(string), where, "string", scalar, problems);
                    break;
                case FieldType.Bytes:
                    Expect(scalar == typeof(byte[]) || scalar == typeof(string), where, "bytes", scalar, problems);
                    break;
                case FieldType.Bool:
                    Expect(scalar == typeof(bool), where, "bool", scalar, problems);
                    break;
                case FieldType.Double or FieldType.Float:
                    Expect(scalar == typeof(double) || scalar == typeof(float), where, "a floating point", scalar, problems);
                    break;
                default:
                    Expect(scalar.IsPrimitive && scalar != typeof(bool) && scalar != typeof(double) && scalar != typeof(float),
                        where, field.FieldType.ToString(), scalar, problems);
                    break;
            }
        }
    }

    private static void Expect(bool ok, string where, string proto, Type poco, List<string> problems)
    {
        if (!ok)
        {
            problems.Add($"{where}: the proto has {proto}, the POCO {poco.Name}");
        }
    }

    private static Type? ElementType(Type type)
    {
        if (type == typeof(byte[]) || type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.GetInterfaces().Concat([type])
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            ?.GetGenericArguments()[0];
    }
}

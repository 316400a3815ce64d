using System.Text.Json;

namespace Mezzo.Core.Security;

/// <summary>
/// Mesos's local authorizer over an <c>ACLs</c> document (<c>--acls</c>): for an action, the ACLs are tried in order,
/// the first whose subjects and objects both match the request decides, and <see cref="Permissive"/> decides when
/// none matches. Subject and object matching follow Mesos's match and allow matrices: an unauthenticated request is
/// the subject <c>ANY</c>, which only an ACL subject of <c>ANY</c> allows; a request about no particular object is
/// the object <c>ANY</c>. Immutable and pure, so every request thread may use one instance.
/// </summary>
public sealed class Acls
{
    private readonly IReadOnlyList<AclRule>[] _rules;

    public Acls(bool permissive, IReadOnlyDictionary<AclAction, IReadOnlyList<AclRule>> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Permissive = permissive;
        _rules = new IReadOnlyList<AclRule>[Enum.GetValues<AclAction>().Length];
        for (var i = 0; i < _rules.Length; i++)
        {
            _rules[i] = rules.TryGetValue((AclAction)i, out var list) ? list : [];
        }
    }

    /// <summary>No ACLs and permissive: everything is allowed (Mesos without <c>--acls</c>).</summary>
    public static Acls AllowAll { get; } = new(true, new Dictionary<AclAction, IReadOnlyList<AclRule>>());

    /// <summary>What an action is decided by when no ACL matches (<c>permissive</c>, default true).</summary>
    public bool Permissive { get; }

    public IReadOnlyList<AclRule> Rules(AclAction action) => _rules[(int)action];

    /// <summary>Whether <paramref name="principal"/> (null: unauthenticated) may do <paramref name="action"/> on
    /// <paramref name="objectValue"/> (null: no particular object, Mesos's object <c>ANY</c>).</summary>
    public bool IsAllowed(AclAction action, string? principal, string? objectValue)
    {
        var match = AclActions.Match(action);
        foreach (var rule in _rules[(int)action])
        {
            if (SubjectMatches(principal, rule.Principals) && ObjectMatches(objectValue, rule.Objects, match))
            {
                return SubjectAllowed(principal, rule.Principals) && ObjectAllowed(objectValue, rule.Objects, match);
            }
        }

        return Permissive;
    }

    /// <summary>
    /// Whether some object exists that <paramref name="principal"/> may do <paramref name="action"/> on: false when
    /// every path through the ACLs ends in a refusal. An endpoint gated by actions none of which the principal may
    /// ever do answers 403 rather than an empty, filtered result.
    /// </summary>
    public bool MayEver(AclAction action, string? principal)
    {
        foreach (var rule in _rules[(int)action])
        {
            if (!SubjectMatches(principal, rule.Principals))
            {
                continue;
            }

            var subjectAllowed = SubjectAllowed(principal, rule.Principals);
            switch (rule.Objects.Type)
            {
                // ANY and NONE match every object: this ACL decides for all that remain.
                case AclEntityType.Any:
                    return subjectAllowed;
                case AclEntityType.None:
                    return false;
                default:
                    if (subjectAllowed && rule.Objects.Values.Count > 0)
                    {
                        return true;
                    }

                    break;
            }
        }

        return Permissive;
    }

    /// <summary>
    /// Whether <paramref name="principal"/> may do <paramref name="action"/> on every object: no path through the
    /// ACLs ends in a refusal. A filtered view checks this once and then skips the per-object checks (the common case
    /// of no ACLs, or an operator allowed <c>ANY</c>).
    /// </summary>
    public bool MayAlways(AclAction action, string? principal)
    {
        foreach (var rule in _rules[(int)action])
        {
            if (!SubjectMatches(principal, rule.Principals))
            {
                continue;
            }

            var subjectAllowed = SubjectAllowed(principal, rule.Principals);
            switch (rule.Objects.Type)
            {
                case AclEntityType.Any:
                    return subjectAllowed;
                case AclEntityType.None:
                    return false;
                default:
                    // The named objects are decided here; the others fall through to the next ACLs.
                    if (!subjectAllowed)
                    {
                        return false;
                    }

                    break;
            }
        }

        return Permissive;
    }

    // Mesos's match matrix with the request subject SOME{principal} or, unauthenticated, ANY.
    private static bool SubjectMatches(string? principal, AclEntity acl) => acl.Type switch
    {
        AclEntityType.Any or AclEntityType.None => true,
        _ => principal is not null && acl.Values.Contains(principal, StringComparer.Ordinal),
    };

    private static bool SubjectAllowed(string? principal, AclEntity acl) => acl.Type switch
    {
        AclEntityType.Any => true,
        AclEntityType.None => false,
        _ => principal is not null && acl.Values.Contains(principal, StringComparer.Ordinal),
    };

    private static bool ObjectMatches(string? value, AclEntity acl, AclObjectMatch match) => acl.Type switch
    {
        AclEntityType.Any or AclEntityType.None => true,
        _ => value is not null && Covers(acl.Values, value, match),
    };

    private static bool ObjectAllowed(string? value, AclEntity acl, AclObjectMatch match) => acl.Type switch
    {
        AclEntityType.Any => true,
        AclEntityType.None => false,
        _ => value is not null && Covers(acl.Values, value, match),
    };

    private static bool Covers(IReadOnlyList<string> values, string value, AclObjectMatch match)
    {
        foreach (var candidate in values)
        {
            if (string.Equals(candidate, value, StringComparison.Ordinal))
            {
                return true;
            }

            if (match == AclObjectMatch.PathPrefix && IsBelow(value, candidate))
            {
                return true;
            }

            if (match == AclObjectMatch.NamePattern && candidate.EndsWith('*')
                && value.StartsWith(candidate.AsSpan(0, candidate.Length - 1), StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsBelow(string value, string prefix)
    {
        var trimmed = prefix.TrimEnd('/');
        return trimmed.Length == 0
            ? value.StartsWith('/')
            : value.Length > trimmed.Length && value.StartsWith(trimmed, StringComparison.Ordinal) && value[trimmed.Length] == '/';
    }

    /// <summary>
    /// Parses an <c>ACLs</c> JSON document as Mesos's <c>--acls</c> takes it. Throws <see cref="FormatException"/>
    /// naming the offending key or entry; keys of Mesos ACLs Mezzo has nothing to enforce with are accepted.
    /// </summary>
    public static Acls Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException error)
        {
            throw new FormatException($"ACLs are not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"ACLs must be a JSON object, not {Describe(root.ValueKind)}");
            }

            var permissive = true;
            var rules = new Dictionary<AclAction, IReadOnlyList<AclRule>>();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == "permissive")
                {
                    permissive = property.Value.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        _ => throw new FormatException($"ACLs: 'permissive' must be true or false, not {Describe(property.Value.ValueKind)}"),
                    };
                    continue;
                }

                string objectField;
                AclAction? action = null;
                if (AclActions.TryParse(property.Name, out var known))
                {
                    action = known;
                    objectField = AclActions.ObjectField(known);
                }
                else
                {
                    objectField = AclActions.AcceptedObjectField(property.Name)
                        ?? throw new FormatException($"ACLs: unknown action '{property.Name}'; known are: permissive, {string.Join(", ", AclActions.AllKeys)}");
                }

                if (property.Value.ValueKind != JsonValueKind.Array)
                {
                    throw new FormatException($"ACLs: '{property.Name}' must be an array of ACLs, not {Describe(property.Value.ValueKind)}");
                }

                var list = new List<AclRule>();
                var index = 0;
                foreach (var entry in property.Value.EnumerateArray())
                {
                    list.Add(ParseRule(entry, $"{property.Name}[{index}]", objectField));
                    index++;
                }

                if (action is { } enforced)
                {
                    if (rules.ContainsKey(enforced))
                    {
                        throw new FormatException($"ACLs: '{property.Name}' is given twice");
                    }

                    rules[enforced] = list;
                }
            }

            return new Acls(permissive, rules);
        }
    }

    private static AclRule ParseRule(JsonElement entry, string where, string objectField)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"ACLs: {where} must be an object with 'principals' and '{objectField}', not {Describe(entry.ValueKind)}");
        }

        AclEntity? principals = null;
        AclEntity? objects = null;
        foreach (var field in entry.EnumerateObject())
        {
            if (field.Name == "principals")
            {
                principals = ParseEntity(field.Value, $"{where}.principals");
            }
            else if (field.Name == objectField)
            {
                objects = ParseEntity(field.Value, $"{where}.{objectField}");
            }
            else
            {
                throw new FormatException($"ACLs: {where} has an unknown field '{field.Name}'; an ACL of this action has 'principals' and '{objectField}'");
            }
        }

        // Both are required in acls.proto: an absent entity would be ambiguous between ANY and NONE.
        return new AclRule(
            principals ?? throw new FormatException($"ACLs: {where} lacks 'principals'"),
            objects ?? throw new FormatException($"ACLs: {where} lacks '{objectField}'"));
    }

    private static AclEntity ParseEntity(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"ACLs: {where} must be an object like {{\"values\": [\"a\"]}} or {{\"type\": \"ANY\"}}, not {Describe(element.ValueKind)}");
        }

        var type = AclEntityType.Some;
        var values = new List<string>();
        foreach (var field in element.EnumerateObject())
        {
            switch (field.Name)
            {
                case "type":
                    type = field.Value.ValueKind == JsonValueKind.String
                        ? field.Value.GetString() switch
                        {
                            "SOME" => AclEntityType.Some,
                            "ANY" => AclEntityType.Any,
                            "NONE" => AclEntityType.None,
                            var other => throw new FormatException($"ACLs: {where}.type is '{other}'; it must be SOME, ANY or NONE"),
                        }
                        : throw new FormatException($"ACLs: {where}.type must be a string (SOME, ANY or NONE)");
                    break;
                case "values":
                    if (field.Value.ValueKind != JsonValueKind.Array)
                    {
                        throw new FormatException($"ACLs: {where}.values must be an array of strings");
                    }

                    foreach (var value in field.Value.EnumerateArray())
                    {
                        var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                        if (string.IsNullOrEmpty(text))
                        {
                            throw new FormatException($"ACLs: {where}.values must hold non-empty strings");
                        }

                        values.Add(text);
                    }

                    break;
                default:
                    throw new FormatException($"ACLs: {where} has an unknown field '{field.Name}' (an entity has 'type' and 'values')");
            }
        }

        if (type == AclEntityType.Some && values.Count == 0)
        {
            throw new FormatException($"ACLs: {where} names no values; use {{\"type\": \"ANY\"}} or {{\"type\": \"NONE\"}} for everyone or no one");
        }

        return type == AclEntityType.Some ? new AclEntity(type, values) : type == AclEntityType.Any ? AclEntity.Any : AclEntity.None;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

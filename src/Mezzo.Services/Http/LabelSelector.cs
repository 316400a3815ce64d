namespace Mezzo.Services.Http;

/// <summary>
/// Marathon's label selector for GET /v2/apps?label=...: comma-separated terms, all of which must hold — existence
/// ("env"), equality ("env==prod", "tier!=web") and sets ("env in (a,b)", "env notin (a,b)").
/// </summary>
public static class LabelSelector
{
    public static Func<IReadOnlyDictionary<string, string>, bool> Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return _ => true;
        }

        var terms = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
        foreach (var term in SplitTerms(selector))
        {
            var text = term.Trim();
            if (text.Length == 0)
            {
                throw new FormatException($"Invalid label selector '{selector}': empty term");
            }

            if (text.Contains("!=", StringComparison.Ordinal))
            {
                var (key, value) = Pair(text, "!=");
                terms.Add(labels => labels.TryGetValue(key, out var v) && v != value);
            }
            else if (text.Contains("==", StringComparison.Ordinal))
            {
                var (key, value) = Pair(text, "==");
                terms.Add(labels => labels.TryGetValue(key, out var v) && v == value);
            }
            else if (SetTerm(text, " notin ") is { } notIn)
            {
                terms.Add(labels => labels.TryGetValue(notIn.Key, out var v) && !notIn.Values.Contains(v));
            }
            else if (SetTerm(text, " in ") is { } within)
            {
                terms.Add(labels => labels.TryGetValue(within.Key, out var v) && within.Values.Contains(v));
            }
            else if (text.Any(char.IsWhiteSpace) || text.Contains('('))
            {
                throw new FormatException($"Invalid label selector term '{text}'");
            }
            else
            {
                terms.Add(labels => labels.ContainsKey(text));
            }
        }

        return labels => terms.All(t => t(labels));
    }

    private static (string Key, string Value) Pair(string text, string op)
    {
        var index = text.IndexOf(op, StringComparison.Ordinal);
        return (text[..index].Trim(), text[(index + op.Length)..].Trim());
    }

    private static (string Key, HashSet<string> Values)? SetTerm(string text, string op)
    {
        var index = text.IndexOf(op, StringComparison.Ordinal);
        if (index < 0)
        {
            return null;
        }

        var list = text[(index + op.Length)..].Trim();
        if (!list.StartsWith('(') || !list.EndsWith(')'))
        {
            throw new FormatException($"Invalid label selector term '{text}': expected a list in parentheses");
        }

        return (text[..index].Trim(), [.. list[1..^1].Split(',').Select(v => v.Trim())]);
    }

    /// <summary>Splits on commas outside parentheses ("a in (x,y), b" is two terms).</summary>
    private static IEnumerable<string> SplitTerms(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            depth += selector[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (selector[i] == ',' && depth == 0)
            {
                yield return selector[start..i];
                start = i + 1;
            }
        }

        yield return selector[start..];
    }
}

using System.Globalization;
using System.Text;
using Mezzo.Protocol.Chronos;

namespace Mezzo.Jobs.Graph;

/// <summary>The dependency DAG over jobs (edges parent → child), as pure functions of the job set.</summary>
public static class JobGraph
{
    public static IEnumerable<string> Children(IReadOnlyDictionary<string, Job> jobs, string name) =>
        jobs.Values.Where(j => j.Parents.Contains(name)).Select(j => j.Name).Order(StringComparer.Ordinal);

    /// <summary>The parents of <paramref name="candidate"/> that are not jobs.</summary>
    public static IReadOnlyList<string> MissingParents(IReadOnlyDictionary<string, Job> jobs, Job candidate) =>
        [.. candidate.Parents.Where(p => p != candidate.Name && !jobs.ContainsKey(p))];

    /// <summary>
    /// The cycle <paramref name="candidate"/> would close if it replaced its namesake, as a path a → b → ... → a; null
    /// when the graph stays acyclic.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyDictionary<string, Job> jobs, Job candidate)
    {
        // A cycle through the candidate runs from it, down its children, back up to one of its parents.
        IReadOnlyList<string> ParentsOf(string name) =>
            name == candidate.Name ? candidate.Parents : jobs.TryGetValue(name, out var job) ? job.Parents : [];

        // Search upward from each parent for the candidate: parent ← ... ← candidate means candidate → ... → parent.
        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        foreach (var parent in candidate.Parents)
        {
            if (parent == candidate.Name)
            {
                return [candidate.Name, candidate.Name];
            }

            if (previous.TryAdd(parent, candidate.Name))
            {
                queue.Enqueue(parent);
            }
        }

        while (queue.Count > 0)
        {
            var current = queue.Dequeue();
            foreach (var up in ParentsOf(current))
            {
                if (up == candidate.Name)
                {
                    // Walk back: candidate → current → ... → (a parent of candidate) → candidate.
                    var path = new List<string> { candidate.Name, current };
                    var step = current;
                    while (previous[step] != candidate.Name)
                    {
                        step = previous[step];
                        path.Add(step);
                    }

                    path.Add(candidate.Name);
                    return path;
                }

                if (previous.TryAdd(up, current))
                {
                    queue.Enqueue(up);
                }
            }
        }

        return null;
    }

    /// <summary>Chronos's last state of a job from its timestamps: success, failure or fresh.</summary>
    public static string LastState(Job job)
    {
        if (job.LastSuccess.Length == 0 && job.LastError.Length == 0)
        {
            return "fresh";
        }

        if (job.LastSuccess.Length == 0)
        {
            return "failure";
        }

        if (job.LastError.Length == 0)
        {
            return "success";
        }

        return DateTimeOffset.Parse(job.LastSuccess, CultureInfo.InvariantCulture) > DateTimeOffset.Parse(job.LastError, CultureInfo.InvariantCulture) ? "success" : "failure";
    }

    /// <summary>
    /// The DAG as a dot file in the shape Chronos's DOTExporter writes (vertices numbered from 1, labelled with the job
    /// name, edges between numbers), each vertex also coloured by its last state.
    /// </summary>
    public static string Dot(IReadOnlyDictionary<string, Job> jobs)
    {
        var names = jobs.Keys.Order(StringComparer.Ordinal).ToList();
        var ids = names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i + 1, StringComparer.Ordinal);
        var text = new StringBuilder("digraph G {\n");
        foreach (var name in names)
        {
            var state = LastState(jobs[name]);
            var color = state switch { "success" => "green", "failure" => "red", _ => "gray" };
            text.Append(CultureInfo.InvariantCulture, $"  {ids[name]} [ label = \"{Escape(name)}\" color = \"{color}\" tooltip = \"{state}\" ];\n");
        }

        foreach (var child in names)
        {
            foreach (var parent in jobs[child].Parents.Where(ids.ContainsKey).Order(StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"  {ids[parent]} -> {ids[child]};\n");
            }
        }

        return text.Append("}\n").ToString();
    }

    /// <summary>Chronos's graph/csv: <c>node,NAME,LASTSTATE,STATE</c> lines, then <c>link,PARENT,CHILD</c> lines.</summary>
    public static string Csv(IReadOnlyDictionary<string, Job> jobs, Func<string, string> currentState)
    {
        var text = new StringBuilder();
        var names = jobs.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            text.Append(CultureInfo.InvariantCulture, $"node,{name},{LastState(jobs[name])},{currentState(name)}\n");
        }

        foreach (var child in names)
        {
            foreach (var parent in jobs[child].Parents.Order(StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"link,{parent},{child}\n");
            }
        }

        return text.ToString();
    }

    private static string Escape(string name) => name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}

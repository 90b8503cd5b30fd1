namespace Distill.Models;

/// <summary>
/// Resolving a tap name: a published tap ("stage2"), or else the dotted path of any submodule
/// ("layer2.1.relu") whose forward output is captured by a hook; unknown names get one message that lists
/// the published taps and the closest module paths.
/// </summary>
internal static class TapNames
{
    /// <summary>The message for an unknown <paramref name="name"/>.</summary>
    public static string Unknown(string owner, string name, IEnumerable<string> published, IEnumerable<string> modulePaths)
    {
        var close = Closest(name, modulePaths);
        return $"{owner} has no tap '{name}': neither a published tap ({string.Join(", ", published)}) nor a module path"
            + (close.Count > 0 ? $" (closest module paths: {string.Join(", ", close)})" : string.Empty);
    }

    /// <summary>Up to five module paths closest to <paramref name="name"/> (edit distance, ties by path order).</summary>
    public static IReadOnlyList<string> Closest(string name, IEnumerable<string> paths)
    {
        var limit = Math.Max(2, name.Length / 3);
        return paths.Where(p => p.Length > 0)
            .Select((p, i) => (Path: p, Index: i, Distance: Distance(name, p)))
            .Where(c => c.Distance <= limit || c.Path.EndsWith("." + name, StringComparison.Ordinal) || name.StartsWith(c.Path + ".", StringComparison.Ordinal))
            .OrderBy(c => c.Distance).ThenBy(c => c.Index).Take(5).Select(c => c.Path).ToArray();
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

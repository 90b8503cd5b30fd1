using System.Globalization;
using System.Text;
using Distill.Schema;

namespace Distill.Configs;

/// <summary>Writes a <see cref="RunConfig"/> back as YAML with the loader's key names (the run folder's config.yaml).</summary>
public static class ConfigWriter
{
    /// <summary>The recipe as YAML that <see cref="ConfigLoader"/> reads back to an equal config.</summary>
    public static string ToYaml(RunConfig config)
    {
        var sb = new StringBuilder();
        var section = string.Empty;
        foreach (var (key, text) in Entries(config))
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                sb.Append(key).Append(": ").Append(text).Append('\n');
                continue;
            }

            if (key[..dot] != section)
            {
                section = key[..dot];
                sb.Append(section).Append(":\n");
            }

            sb.Append("  ").Append(key[(dot + 1)..]).Append(": ").Append(text).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// Every key the recipe sets ("section.key", or "output") with its YAML text, in the order <see cref="ToYaml"/> writes
    /// them: the schema's keys (<see cref="RecipeSchema"/>) that apply and are set, each at its default only when it was
    /// written at its default from the first release, so older recipes and checkpoints read back equal; the method's options between teacher and train.
    /// </summary>
    internal static IEnumerable<(string Key, string Text)> Entries(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entries = new List<(string, string)>();
        void Add(params string[] sections) =>
            entries.AddRange(RecipeSchema.Keys.Where(k => sections.Contains(k.Section) && k.IsWritten(config)).Select(k => (k.Path, k.Format(k.Get(config))!)));
        Add("data", "student", "teacher");
        entries.Add(("method.name", Text(config.Method.Name)));
        foreach (var (key, value) in config.Method.Options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            entries.Add(($"method.{key}", Text(value)));
        }

        Add("train", string.Empty);
        return entries;
    }

    /// <summary>A method option's value as YAML: numbers round-trip exactly, strings are quoted (except list texts), lists are flow lists (the types an <see cref="OptionKind"/> holds).</summary>
    private static string Text(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s when s.StartsWith('[') => s,
        string s => Quote(s),
        int[] list => $"[{string.Join(", ", list.Select(i => i.ToString(CultureInfo.InvariantCulture)))}]",
        double[] list => $"[{string.Join(", ", list.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]",
        string[] list => $"[{string.Join(", ", list)}]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

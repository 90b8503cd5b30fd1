namespace Distill.Cli;

/// <summary>
/// The --methods syntax of `distill compare` and `distill quickstart`: comma-separated entries, each a method
/// name optionally followed by a colon and semicolon-separated options, e.g. "kd,dkd:warmup=2;beta=6".
/// </summary>
internal static class MethodList
{
    /// <exception cref="Distill.Configs.ConfigException">The list or one of its entries is empty (e.g. "", ",", "kd,", ":t=2").</exception>
    public static List<(string Label, string Name, string[] Options)> Parse(string flag, string text) =>
        CliChecks.List(flag, text).Select(entry =>
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? entry : entry[..colon].Trim();
            if (name.Length == 0)
            {
                throw new Distill.Configs.ConfigException($"{flag} entry '{entry}' has no method name before the colon, e.g. kd:temperature=2");
            }

            return colon < 0
                ? (entry, entry, Array.Empty<string>())
                : (entry, name, entry[(colon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }).ToList();
}

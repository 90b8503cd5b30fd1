namespace Distill.Cli;

/// <summary>
/// The --methods syntax of `distill compare` and `distill quickstart`: comma-separated entries, each a method
/// name optionally followed by a colon and semicolon-separated options, e.g. "kd,dkd:warmup=2;beta=6".
/// </summary>
internal static class MethodList
{
    public static List<(string Label, string Name, string[] Options)> Parse(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(entry =>
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            return colon < 0
                ? (entry, entry, Array.Empty<string>())
                : (entry, entry[..colon], entry[(colon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }).ToList();
}

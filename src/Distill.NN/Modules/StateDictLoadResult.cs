namespace Distill.NN;

/// <summary>What <see cref="Module.LoadStateDict"/> found: keys the model has that the state lacks, keys it does not know, shape mismatches.</summary>
/// <param name="MissingKeys">Model keys absent from the state.</param>
/// <param name="UnexpectedKeys">State keys the model does not have.</param>
/// <param name="ShapeMismatches">"key: checkpoint [..], model [..]" for each key whose shapes differ.</param>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> ShapeMismatches)
{
    /// <summary>True when every key matched.</summary>
    public bool IsExact => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>A readable report, one problem kind per line.</summary>
    public override string ToString()
    {
        var lines = new List<string>();
        if (MissingKeys.Count > 0) lines.Add($"missing keys ({MissingKeys.Count}): {Shorten(MissingKeys, ", ")}");
        if (UnexpectedKeys.Count > 0) lines.Add($"unexpected keys ({UnexpectedKeys.Count}): {Shorten(UnexpectedKeys, ", ")}");
        if (ShapeMismatches.Count > 0) lines.Add($"shape mismatches ({ShapeMismatches.Count}): {Shorten(ShapeMismatches, "; ")}");
        return lines.Count == 0 ? "all keys matched" : string.Join(Environment.NewLine, lines);
    }

    // Long lists (a whole model's keys) are cut after 12 entries; the counts above stay exact.
    private static string Shorten(IReadOnlyList<string> items, string separator) =>
        items.Count <= 12 ? string.Join(separator, items) : $"{string.Join(separator, items.Take(12))}{separator}... and {items.Count - 12} more";
}

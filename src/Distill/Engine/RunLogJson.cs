using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Engine;

/// <summary>
/// The JSON settings of every run log (log.jsonl, steps.jsonl, results.json): NaN and ±Infinity, which JSON
/// numbers cannot hold, are written as the strings "NaN", "Infinity" and "-Infinity" and read back as numbers.
/// </summary>
public static class RunLogJson
{
    /// <summary>One line per record.</summary>
    public static JsonSerializerOptions Options { get; } = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Indented, for result files meant to be read.</summary>
    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };
}

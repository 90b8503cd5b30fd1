using System.CommandLine;

namespace Distill.Cli;

/// <summary>The --device option of the commands that run models (train, teacher, compare, quickstart, eval, check).</summary>
internal static class DeviceOption
{
    /// <summary>A new --device option (cpu by default for the commands without a recipe).</summary>
    /// <param name="recipeKey">When the command reads a recipe: the key the flag overrides (no default then: the recipe's applies).</param>
    public static Option<string?> Create(bool recipeKey = false) => new("--device")
    {
        Description = recipeKey
            ? "cpu, cuda or cuda:N (sets train.device; `distill info` lists the CUDA devices)."
            : "cpu, cuda or cuda:N (`distill info` lists the CUDA devices).",
    };
}

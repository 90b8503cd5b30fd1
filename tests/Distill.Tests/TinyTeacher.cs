using Distill.Engine;
using Distill.Testing;

namespace Distill.Tests;

/// <summary>A resnet8 trained 2 epochs on a tiny IDX set (96 train, 32 test images), for runs that need a real teacher.</summary>
internal static class TinyTeacher
{
    /// <summary>Writes the data under <paramref name="root"/>, trains the teacher into root/teacher, and returns its recipe (constant lr 0.05, seed 1) and checkpoint.</summary>
    public static (string Recipe, string Checkpoint) Train(string root)
    {
        TinyIdx.Write(root, 96, 32);
        var recipe = TinyIdx.Recipe(root, $"""
            train:
              epochs: 2
              lr: 0.05
              schedule: constant
              seed: 1
            output: {Path.Combine(root, "teacher")}
            """);
        var run = Recipes.Parse(recipe);
        TrainingRun.Execute(run);
        return (recipe, Path.Combine(run.Output, "best.safetensors"));
    }
}

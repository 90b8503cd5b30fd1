using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>`distill train` on a recipe with data.dataset folder: a generated class-per-folder tree, one epoch, in its own process.</summary>
public sealed class TrainFolderDatasetTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-folder-train-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Train_FolderDataset_RunsOneEpochEndToEnd()
    {
        var images = Path.Combine(_directory, "images");
        foreach (var (split, perClass) in new[] { ("train", 4), ("test", 2) })
        {
            foreach (var (name, value) in new[] { ("circle", (byte)200), ("square", (byte)30) })
            {
                for (var i = 0; i < perClass; i++)
                {
                    var path = Path.Combine(images, split, name, $"{i}.png");
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using var scope = DisposeScope.Enter();
                    var pixels = Enumerable.Range(0, 16 * 16 * 3).Select(p => (byte)(value + (p % 7) + i)).ToArray();
                    File.WriteAllBytes(path, ImageCodec.EncodePng(Tensor.From(pixels, 16, 16, 3)));
                }
            }
        }

        var output = Path.Combine(_directory, "run");
        var recipe = Path.Combine(_directory, "recipe.yaml");
        File.WriteAllText(recipe, $"""
            data:
              dataset: folder
              root: {images}
              batch_size: 4
              augment: crop
            student:
              model: resnet8
            train:
              epochs: 1
              seed: 1
            output: {output}
            """);

        var (exit, stdout, stderr) = await CliProcess.Run("train", "--config", recipe);
        Assert.True(exit == 0, $"exit {exit}: {stderr}{stdout}");
        Assert.Single(File.ReadAllLines(Path.Combine(output, "log.jsonl")));
        Assert.True(File.Exists(Path.Combine(output, "last.safetensors")));
        Assert.Contains("  dataset: \"folder\"\n", File.ReadAllText(Path.Combine(output, "config.yaml")), StringComparison.Ordinal);
        Assert.Contains("  augment: \"crop\"\n", File.ReadAllText(Path.Combine(output, "config.yaml")), StringComparison.Ordinal);
    }
}

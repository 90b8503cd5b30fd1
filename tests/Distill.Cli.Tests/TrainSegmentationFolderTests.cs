using Distill.NN.Data.Segmentation;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// `distill train` on a segmentation folder users would bring (images/ and labels/ PNGs, one subfolder per split), in its
/// own process: one epoch end to end, then a bad label value stops it with one line naming the file and the bad-input exit code.
/// </summary>
public sealed class TrainSegmentationFolderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-segfolder-train-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Writes 16x16 grey images and their label PNGs (a square of class 1 or 2 on background 0) under root/split/.</summary>
    private string Write(byte badValue = 0)
    {
        var root = Path.Combine(_directory, "data");
        foreach (var (split, count) in new[] { ("train", 4), ("val", 2) })
        {
            var images = Directory.CreateDirectory(Path.Combine(root, split, "images")).FullName;
            var labels = Directory.CreateDirectory(Path.Combine(root, split, "labels")).FullName;
            for (var i = 0; i < count; i++)
            {
                var mask = new byte[16 * 16];
                for (var y = 4; y < 12; y++)
                {
                    for (var x = 2 + i; x < 10 + i; x++)
                    {
                        mask[(y * 16) + x] = (byte)(1 + (i % 2));
                    }
                }

                if (badValue != 0 && split == "train" && i == 2)
                {
                    mask[0] = badValue;
                }

                using var scope = DisposeScope.Enter();
                var pixels = mask.Select(m => (byte)(40 + (80 * m))).ToArray();
                File.WriteAllBytes(Path.Combine(images, $"{i}.png"), ImageCodec.EncodePng(Tensor.From(pixels, 16, 16, 1)));
                File.WriteAllBytes(Path.Combine(labels, $"{i}.png"), LabelPng.Encode(mask, 16, 16));
            }
        }

        return root;
    }

    private async Task<(int Exit, string Stdout, string Stderr)> Train(string root, string output)
    {
        var recipe = Path.Combine(_directory, "recipe.yaml");
        File.WriteAllText(recipe, $$"""
            task: segmentation
            data:
              dataset: segmentation-folder
              root: {{root}}
              img_dir: "{split}/images"
              ann_dir: "{split}/labels"
              classes: 3
              batch_size: 2
              crop_size: 16
              augment: crop+flip
            student:
              model: scene_student
            train:
              epochs: 1
              seed: 1
            output: {{output}}
            """);
        return await CliProcess.Run("train", "--config", recipe);
    }

    [Fact]
    public async Task Train_SegmentationFolder_RunsOneEpochEndToEnd()
    {
        var output = Path.Combine(_directory, "run");
        var (exit, stdout, stderr) = await Train(Write(), output);
        Assert.True(exit == 0, $"exit {exit}: {stderr}{stdout}");
        Assert.Contains("test mIoU", stdout, StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(Path.Combine(output, "log.jsonl")));
        Assert.Contains("Per-class IoU", File.ReadAllText(Path.Combine(output, "report.html")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_ALabelAboveTheClassCount_IsOneLineNamingTheFile_AndTheBadInputExitCode()
    {
        var (exit, _, stderr) = await Train(Write(badValue: 7), Path.Combine(_directory, "bad"));
        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("train", "labels", "2.png"), line, StringComparison.Ordinal);
        Assert.Contains("7", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}

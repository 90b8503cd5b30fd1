using Distill.Configs;
using Xunit;

namespace Distill.Tests;

public sealed class ConfigTests
{
    private const string Valid = """
        data:
          dataset: fashion-mnist
          batch_size: 32
        student:
          model: resnet8
        train:
          epochs: 3
          lr: 0.1
          milestones: [1, 2]
        output: runs/x
        """;

    [Fact]
    public void ValidRecipe_Binds_AndRoundTripsThroughTheWriter()
    {
        var config = ConfigLoader.Parse(Valid);
        Assert.Equal("resnet8", config.Student.Model);
        Assert.Equal(32, config.Data.BatchSize);
        Assert.Equal([1, 2], config.Train.Milestones);
        Assert.Equal(0.1, config.Train.Lr);
        var again = ConfigLoader.Parse(ConfigWriter.ToYaml(config));
        Assert.Equal(ConfigWriter.ToYaml(config), ConfigWriter.ToYaml(again));
    }

    [Fact]
    public void UnknownKey_NamesFileLineKeyAndTheAllowedKeys()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace("  lr: 0.1", "  learning_rate: 0.1", StringComparison.Ordinal), "recipe.yaml"));
        Assert.Equal("recipe.yaml:8: unknown key 'train.learning_rate'; keys of train are: epochs, lr, momentum, weight_decay, schedule, milestones, seed, device", e.Message);
    }

    [Fact]
    public void WrongType_NamesTheKeyAndTheExpectedType()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace("epochs: 3", "epochs: three", StringComparison.Ordinal), "recipe.yaml"));
        Assert.Equal("recipe.yaml:7: train.epochs is 'three'; expected an integer >= 1", e.Message);
    }

    [Fact]
    public void ValueOutsideTheAllowedSet_ListsTheAllowedValues()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace("model: resnet8", "model: resnet9", StringComparison.Ordinal), "recipe.yaml"));
        Assert.StartsWith("recipe.yaml:5: student.model is 'resnet9'; allowed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("resnet8x4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsNamed() =>
        Assert.Equal("/nonexistent/x.yaml: no such config file", Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/x.yaml")).Message);

    [Theory]
    [InlineData("train.lr=abc", "override --set train.lr=abc: train.lr is 'abc'; expected a number >= 0")]
    [InlineData("train.lrr=1", "override --set train.lrr=1: unknown key 'train.lrr'; keys of train are: epochs, lr, momentum, weight_decay, schedule, milestones, seed, device")]
    [InlineData("train.lr", "override 'train.lr' is not key=value (e.g. train.lr=0.01)")]
    public void BadOverride_IsReportedAsTheOverride(string setting, string message) =>
        Assert.Equal(message, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid, overrides: [setting])).Message);

    [Fact]
    public void Overrides_ApplyInOrder_IncludingNewSectionsAndLists()
    {
        var config = ConfigLoader.Parse(Valid, overrides: ["train.lr=0.01", "train.milestones=[5, 7]", "data.augment=false", "train.lr=0.02"]);
        Assert.Equal(0.02, config.Train.Lr);
        Assert.Equal([5, 7], config.Train.Milestones);
        Assert.False(config.Data.Augment);
    }

    [Fact]
    public void DistillationWithoutATeacherCheckpoint_SaysWhatIsMissing()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid + "\nmethod:\n  name: kd\n", "recipe.yaml"));
        Assert.Contains("method 'kd' needs teacher.model and teacher.checkpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedRecipes_AllLoad()
    {
        var root = Path.GetFullPath(Path.Combine(SourceDirectory(), "..", "..", "configs"));
        var files = Directory.GetFiles(root, "*.yaml", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            ConfigLoader.Load(file);
        }
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

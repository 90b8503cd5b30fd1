using Distill.Configs;
using Distill.Engine;
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
        var config = Recipes.Parse(Valid);
        Assert.Equal("resnet8", config.Student.Model);
        Assert.Equal(32, config.Data.BatchSize);
        Assert.Equal([1, 2], config.Train.Milestones);
        Assert.Equal(0.1, config.Train.Lr);
        var again = Recipes.Parse(ConfigWriter.ToYaml(config));
        Assert.Equal(ConfigWriter.ToYaml(config), ConfigWriter.ToYaml(again));
    }

    [Fact]
    public void UnknownKey_NamesFileLineKeyAndTheAllowedKeys()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Valid.Replace("  lr: 0.1", "  learning_rate: 0.1", StringComparison.Ordinal), "recipe.yaml"));
        Assert.Equal("recipe.yaml:8: unknown key 'train.learning_rate'; keys of train are: epochs, lr, optimizer, momentum, nesterov, betas, eps, weight_decay, no_weight_decay_on, method_lr_mult, schedule, step_per, milestones, warmup_epochs, warmup_iters, warmup_start_factor, power, eta_min, grad_clip, sync_bn, seed, device", e.Message);
    }

    [Fact]
    public void WrongType_NamesTheKeyAndTheExpectedType()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Valid.Replace("epochs: 3", "epochs: three", StringComparison.Ordinal), "recipe.yaml"));
        Assert.Equal("recipe.yaml:7: train.epochs is 'three'; expected an integer >= 1", e.Message);
    }

    [Fact]
    public void ValueOutsideTheAllowedSet_ListsTheAllowedValues()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Valid.Replace("model: resnet8", "model: resnet9", StringComparison.Ordinal), "recipe.yaml"));
        Assert.StartsWith("recipe.yaml:5: student.model is 'resnet9'; allowed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("resnet8x4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsNamed() =>
        Assert.Equal("/nonexistent/x.yaml: no such config file", Assert.Throws<ConfigException>(() => Recipes.Load("/nonexistent/x.yaml")).Message);

    [Theory]
    [InlineData("train.lr=abc", "override --set train.lr=abc: train.lr is 'abc'; expected a finite number >= 0")]
    [InlineData("train.lrr=1", "override --set train.lrr=1: unknown key 'train.lrr'; keys of train are: epochs, lr, optimizer, momentum, nesterov, betas, eps, weight_decay, no_weight_decay_on, method_lr_mult, schedule, step_per, milestones, warmup_epochs, warmup_iters, warmup_start_factor, power, eta_min, grad_clip, sync_bn, seed, device")]
    [InlineData("train.lr", "override 'train.lr' is not key=value (e.g. train.lr=0.01)")]
    public void BadOverride_IsReportedAsTheOverride(string setting, string message) =>
        Assert.Equal(message, Assert.Throws<ConfigException>(() => Recipes.Parse(Valid, overrides: [setting])).Message);

    [Fact]
    public void Overrides_ApplyInOrder_IncludingNewSectionsAndLists()
    {
        var config = Recipes.Parse(Valid, overrides: ["train.lr=0.01", "train.milestones=[5, 7]", "data.augment=false", "train.lr=0.02"]);
        Assert.Equal(0.02, config.Train.Lr);
        Assert.Equal([5, 7], config.Train.Milestones);
        Assert.False(config.Data.Augment);
    }

    [Fact]
    public void DistillationWithoutATeacherCheckpoint_SaysWhatIsMissing()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Valid + "\nmethod:\n  name: kd\n", "recipe.yaml"));
        Assert.Contains("method 'kd' needs teacher.model and teacher.checkpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedRecipes_AllLoad()
    {
        var root = Path.GetFullPath(Path.Combine(SourceDirectory(), "..", "..", "configs"));
        var files = Directory.GetFiles(root, "*.yaml", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        var tasks = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            tasks[Path.GetRelativePath(root, file).Replace('\\', '/')] = Recipes.Load(file).Task;
        }

        // Detection ships recipes for the scene set (quickstart, teacher, the student alone, each default method) and COCO / VOC-shaped ones.
        string[] detection =
        [
            "det-scenes/quickstart/teacher.yaml", "det-scenes/quickstart/student.yaml", "det-scenes/teacher/det_scene_teacher.yaml", "det-scenes/none/det_scene_student.yaml",
            .. new[] { "fgd", "mgd", "cwd", "skd_det" }.Select(m => $"det-scenes/{m}/det_scene_student_from_det_scene_teacher.yaml"),
            "coco/teacher/fcos_resnet50_fpn.yaml", "coco/fgd/fcos_resnet18_fpn_from_fcos_resnet50_fpn.yaml", "voc-detection/teacher/fcos_resnet50_fpn.yaml",
        ];
        Assert.All(detection, d => Assert.Equal("detection", Assert.Contains(d, tasks)));
    }

    /// <summary>Malformed YAML: (case, recipe text, the line the error must name).</summary>
    public static TheoryData<string, string, int> MalformedYaml => new()
    {
        { "unclosed [ then another key", "train:\n  milestones: [1, 2\n  lr: 0.1\n", 3 },
        { "unclosed { then another key", "train: {epochs: 3\noutput: x\n", 2 },
        { "unclosed [ at the end", "train:\n  milestones: [1, 2\n", 3 },
        { "unclosed quote", "output: \"runs/x\ntrain:\n  lr: 1\n", 2 },
        { "tab indentation", "train:\n\tlr: 0.1\n", 2 },
        { "bad indentation", "train:\n  lr: 0.1\n epochs: 3\n", 3 },
        { "unknown alias", "train:\n  lr: *rate\n", 2 },
        { "duplicate key", "train:\n  lr: 0.1\n  lr: 0.2\n", 3 },
        { "mapping value in a flow list", "train:\n  milestones: [a: b: c]\n", 2 },
        { "unclosed { in a list", "data:\n  dataset: fashion-mnist\ntrain:\n  milestones: [{1, 2]\n", 4 },
        { "document marker inside a mapping", "train:\n  lr: 0.1\n--- x\n  y: [\n", 4 },
        { "a second document", "train:\n  lr: 0.1\n---\ntrain:\n  lr: 0.2\n", 4 },
        { "10,000 nested [", "train:\n  milestones: " + new string('[', 10000) + "\n", 2 },
        { "10,000 nested {", "output: " + string.Concat(Enumerable.Repeat("{a: ", 10000)) + "\n", 1 },
        { "10,000 nested block lists", "train:\n  milestones:\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => new string(' ', 2 * i + 4) + "-\n")), 65 },
    };

    [Theory]
    [MemberData(nameof(MalformedYaml))]
    public void MalformedYaml_IsAConfigExceptionWithFileLineAndColumn(string name, string yaml, int line)
    {
        var e = Record.Exception(() => Recipes.Parse(yaml, "recipe.yaml"));
        Assert.True(e is ConfigException, $"{name}: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        Assert.Matches($@"^recipe\.yaml:{line}:\d+: ", e!.Message);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train.milestones=[1, 2")]
    [InlineData("train.milestones=[{1, 2]")]
    public void MalformedOverrideList_IsAConfigExceptionNamingTheOverride(string setting)
    {
        var e = Record.Exception(() => Recipes.Parse(Valid, overrides: [setting]));
        Assert.True(e is ConfigException, e?.ToString());
        Assert.StartsWith($"override '{setting}': ", e!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepOverrideList_IsAConfigException()
    {
        var e = Record.Exception(() => Recipes.Parse(Valid, overrides: ["train.milestones=" + new string('[', 10000)]));
        Assert.True(e is ConfigException, e?.ToString());
        Assert.Contains("nested more than 64 levels deep", e!.Message, StringComparison.Ordinal);
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

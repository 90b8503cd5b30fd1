using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Distill.Configs;
using Distill.Methods;
using Distill.NN.Data;

namespace Distill.Engine.Comparison;

/// <summary>
/// `distill quickstart` as recipes: the committed teacher and student recipes of configs/fashion-mnist/quickstart/
/// (embedded in the assembly), the command's flags applied as overrides, the student alone (<see cref="MethodFactory.None"/>)
/// and each method as a <see cref="ComparisonRun"/> over seeds, distilled from the <see cref="TeacherStage"/>'s teacher.
/// </summary>
public static class Quickstart
{
    /// <summary>Where the classification recipes are committed (and how messages name them).</summary>
    public const string RecipeFolder = "configs/fashion-mnist/quickstart";

    /// <summary>Where the segmentation recipes (the scene set) are committed.</summary>
    public const string SegmentationRecipeFolder = "configs/scenes/quickstart";

    /// <summary>Where the detection recipes (the detection scene set) are committed.</summary>
    public const string DetectionRecipeFolder = "configs/det-scenes/quickstart";

    /// <summary>The tasks the quickstart runs, in the order messages list them.</summary>
    public static IReadOnlyList<string> Tasks { get; } = ["classification", "segmentation", "detection"];

    /// <summary>The methods the quickstart compares with the student alone when none are named, per task.</summary>
    public static string DefaultMethods(string task) => task switch
    {
        "segmentation" => "cwd,skd,mgd,tfd",
        "detection" => "fgd,mgd,cwd,skd_det",
        _ => "kd",
    };

    /// <summary>The folder of <paramref name="task"/>'s committed recipes.</summary>
    /// <exception cref="ConfigException">The quickstart has no recipes for that task.</exception>
    public static string RecipeFolderOf(string task) => task switch
    {
        "classification" => RecipeFolder,
        "segmentation" => SegmentationRecipeFolder,
        "detection" => DetectionRecipeFolder,
        _ => throw new ConfigException($"--task '{task}': the quickstart runs {string.Join(" or ", Tasks)}"),
    };

    /// <summary>The first training and test images of a --fast run.</summary>
    public const int FastTrainImages = 6000, FastTestImages = 2000;

    /// <summary>The first training and test scenes of a segmentation --fast run (a scene costs about ten glyph images).</summary>
    public const int FastTrainScenes = 500, FastTestScenes = 200;

    /// <summary>The first training and test scenes of a detection --fast run (a 96x96 detection scene costs about three segmentation scenes).</summary>
    public const int FastTrainDetectionScenes = 160, FastTestDetectionScenes = 100;

    /// <summary>The data set's name as the quickstart's messages give it (e.g. "the scene set").</summary>
    public static string DataName(string dataset) => dataset switch
    {
        "scenes" => "the scene set",
        "detection-scenes" => "the detection scene set",
        _ => "Fashion-MNIST",
    };

    /// <summary>The committed recipe <paramref name="name"/> (teacher, student, legacy_teacher, legacy_student) as YAML.</summary>
    public static string RecipeText(string name) => RecipeText("classification", name);

    /// <summary>The committed recipe <paramref name="name"/> of <paramref name="task"/> as YAML.</summary>
    public static string RecipeText(string task, string name)
    {
        var resource = task == "classification" ? $"quickstart/{name}.yaml" : $"quickstart-{task}/{name}.yaml";
        using var stream = typeof(Quickstart).Assembly.GetManifestResourceStream(resource)
            ?? throw new ArgumentException($"no quickstart recipe '{name}' (teacher, student, legacy_teacher, legacy_student)", nameof(name));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Resolves every recipe of the quickstart (a bad flag, --set or method option fails here, before any training).</summary>
    /// <exception cref="ConfigException">A recipe key, an override or a method option is invalid, or Fashion-MNIST is not installed.</exception>
    public static QuickstartPlan Plan(QuickstartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefix = options.LegacySchedule ? "legacy_" : string.Empty;
        var common = new List<string>();
        if (options.Fast)
        {
            var (trainImages, testImages) = options.Task switch
            {
                "segmentation" => (FastTrainScenes, FastTestScenes),
                "detection" => (FastTrainDetectionScenes, FastTestDetectionScenes),
                _ => (FastTrainImages, FastTestImages),
            };
            common.AddRange([$"data.train_subset={trainImages}", $"data.test_subset={testImages}"]);
            if (options.Task == "detection")
            {
                // The recipes' 100-iteration warm-up would outlast the ten steps of a --fast epoch.
                common.Add("train.warmup_iters=1");
            }
        }

        if (options.Device is { } device)
        {
            common.Add($"train.device={device}");
        }

        string[] Epochs(int? flag) => options.Fast ? ["train.epochs=1"] : flag is { } e ? [$"train.epochs={e.ToString(CultureInfo.InvariantCulture)}"] : [];
        string[] Model(string? flag) => flag is null ? [] : [$"student.model={flag}"];

        var folder = RecipeFolderOf(options.Task);
        if (options.LegacySchedule && options.Task != "classification")
        {
            throw new ConfigException($"--legacy-schedule reproduces the old classification quickstart; it has no {options.Task} recipes");
        }

        if (options.SoftLabels < 0 || (options.SoftLabels > 0 && options.Task != "classification"))
        {
            throw new ConfigException(options.SoftLabels < 0 ? $"--soft-labels {options.SoftLabels}: the draws per image must be 0 (no store) or more"
                : $"--soft-labels: a soft-label store serves classification only, not {options.Task}");
        }

        var teacherName = $"{folder}/{prefix}teacher.yaml";
        var teacherText = RecipeText(options.Task, prefix + "teacher");
        var teacher = Recipes.Parse(teacherText, teacherName,
            [.. common, .. Model(options.Teacher), .. Epochs(options.TeacherEpochs), $"train.seed={options.Seed.ToString(CultureInfo.InvariantCulture)}", .. TeacherTrainingSets(options.Sets)]);
        // The cache is keyed by what changes the teacher's weights: the resolved recipe but its folder and device.
        var resolved = ConfigWriter.ToYaml(teacher with { Output = string.Empty, Train = teacher.Train with { Device = "cpu" } });
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(resolved)))[..8];
        var key = string.Create(CultureInfo.InvariantCulture, $"{teacher.Data.Dataset}-{teacher.Student.Model}-e{teacher.Train.Epochs}-s{teacher.Train.Seed}-{hash}");
        var cache = Path.Combine(options.Output, "cache");
        teacher = teacher with { Output = Path.Combine(cache, $"teacher-{key}") };
        var checkpoint = Path.Combine(cache, $"teacher-{key}.safetensors");

        var studentName = $"{folder}/{prefix}student.yaml";
        var studentText = RecipeText(options.Task, prefix + "student");
        string[] studentSets =
        [
            .. common, .. Model(options.Student), .. Epochs(options.Epochs), .. options.Sets,
            $"teacher.model={teacher.Student.Model}", $"teacher.checkpoint={checkpoint}",
        ];
        ComparisonMethod[] methods = [new("alone", MethodFactory.None.Name, []), .. options.Methods];
        var students = ComparisonRun.Plan(sets => Recipes.Parse(studentText, studentName, sets), studentSets, methods,
            [.. Enumerable.Range(options.Seed, options.Seeds)], options.RunDirectory);
        if (teacher.Data is { Dataset: "fashion-mnist" or "scenes" or "detection-scenes", Root: null } && !Directory.Exists(IdxReader.FashionMnistDirectory))
        {
            throw new ConfigException($"Fashion-MNIST is not installed at {IdxReader.FashionMnistDirectory}: run eng/setup.sh (package dataset-fashion-mnist)");
        }

        var data = DatasetFactory.Create(teacher.Data, (ulong)teacher.Train.Seed);
        return new QuickstartPlan(teacher, checkpoint, students, data.Train.Dataset.Count, data.Test.Dataset.Count);
    }

    /// <summary>
    /// The --set overrides of the teacher's own training: all but teacher.* keys, which describe the teacher the students
    /// learn from (e.g. teacher.precision) and mean nothing to a recipe that trains it.
    /// </summary>
    private static string[] TeacherTrainingSets(IReadOnlyList<string> sets) =>
        [.. sets.Where(s => !s.TrimStart().StartsWith("teacher.", StringComparison.Ordinal))];
}

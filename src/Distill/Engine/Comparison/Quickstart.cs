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
    /// <summary>Where the recipes are committed (and how messages name them).</summary>
    public const string RecipeFolder = "configs/fashion-mnist/quickstart";

    /// <summary>The first training and test images of a --fast run.</summary>
    public const int FastTrainImages = 6000, FastTestImages = 2000;

    /// <summary>The committed recipe <paramref name="name"/> (teacher, student, legacy_teacher, legacy_student) as YAML.</summary>
    public static string RecipeText(string name)
    {
        using var stream = typeof(Quickstart).Assembly.GetManifestResourceStream($"quickstart/{name}.yaml")
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
            common.AddRange([$"data.train_subset={FastTrainImages}", $"data.test_subset={FastTestImages}"]);
        }

        if (options.Device is { } device)
        {
            common.Add($"train.device={device}");
        }

        string[] Epochs(int? flag) => options.Fast ? ["train.epochs=1"] : flag is { } e ? [$"train.epochs={e.ToString(CultureInfo.InvariantCulture)}"] : [];
        string[] Model(string? flag) => flag is null ? [] : [$"student.model={flag}"];

        var teacherName = $"{RecipeFolder}/{prefix}teacher.yaml";
        var teacherText = RecipeText(prefix + "teacher");
        var teacher = Recipes.Parse(teacherText, teacherName,
            [.. common, .. Model(options.Teacher), .. Epochs(options.TeacherEpochs), $"train.seed={options.Seed.ToString(CultureInfo.InvariantCulture)}", .. options.Sets]);
        // The cache is keyed by what changes the teacher's weights: the resolved recipe but its folder and device.
        var resolved = ConfigWriter.ToYaml(teacher with { Output = string.Empty, Train = teacher.Train with { Device = "cpu" } });
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(resolved)))[..8];
        var key = string.Create(CultureInfo.InvariantCulture, $"{teacher.Data.Dataset}-{teacher.Student.Model}-e{teacher.Train.Epochs}-s{teacher.Train.Seed}-{hash}");
        var cache = Path.Combine(options.Output, "cache");
        teacher = teacher with { Output = Path.Combine(cache, $"teacher-{key}") };
        var checkpoint = Path.Combine(cache, $"teacher-{key}.safetensors");

        var studentName = $"{RecipeFolder}/{prefix}student.yaml";
        var studentText = RecipeText(prefix + "student");
        string[] studentSets =
        [
            .. common, .. Model(options.Student), .. Epochs(options.Epochs), .. options.Sets,
            $"teacher.model={teacher.Student.Model}", $"teacher.checkpoint={checkpoint}",
        ];
        ComparisonMethod[] methods = [new("alone", MethodFactory.None.Name, []), .. options.Methods];
        var students = ComparisonRun.Plan(sets => Recipes.Parse(studentText, studentName, sets), studentSets, methods,
            [.. Enumerable.Range(options.Seed, options.Seeds)], options.RunDirectory);
        if (teacher.Data is { Dataset: "fashion-mnist", Root: null } && !Directory.Exists(IdxReader.FashionMnistDirectory))
        {
            throw new ConfigException($"Fashion-MNIST is not installed at {IdxReader.FashionMnistDirectory}: run eng/setup.sh (package dataset-fashion-mnist)");
        }

        var data = DatasetFactory.Create(teacher.Data, (ulong)teacher.Train.Seed);
        return new QuickstartPlan(teacher, checkpoint, students, data.Train.Dataset.Count, data.Test.Dataset.Count);
    }
}

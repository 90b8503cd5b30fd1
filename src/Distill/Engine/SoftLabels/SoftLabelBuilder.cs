using Distill.Configs;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Engine.SoftLabels;

/// <summary>Builds a trained teacher's soft-label store from its recipe (`distill teacher --cache-soft-labels M`), and computes the key a recipe expects.</summary>
public static class SoftLabelBuilder
{
    /// <summary>The store's file name in the teacher's run folder.</summary>
    public const string FileName = "soft-labels.safetensors";

    /// <summary>The key of a store of <paramref name="teacherModel"/> at <paramref name="teacherCheckpoint"/> over <paramref name="train"/>'s data set and transforms.</summary>
    /// <exception cref="ConfigException">The checkpoint cannot be read.</exception>
    public static SoftLabelKey KeyFor(string teacherModel, string teacherCheckpoint, DataConfig data, DataLoader train, int draws, int topK)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(train);
        string sha;
        try
        {
            sha = SoftLabelKey.FileSha256(teacherCheckpoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"teacher.checkpoint {teacherCheckpoint}: cannot be read for its checksum: {e.Message}", e);
        }

        var root = data.Root ?? (data.Dataset == "fashion-mnist" ? IdxReader.FashionMnistDirectory : string.Empty);
        return new SoftLabelKey(teacherModel, sha, data.Dataset, Path.GetFullPath(root.Length == 0 ? "." : root), train.Dataset.Count,
            SoftLabelKey.DatasetSha256(train.Dataset), TransformDraw.Describe(train.Transform), draws, topK);
    }

    /// <summary>
    /// Builds <c>&lt;output&gt;/soft-labels.safetensors</c> for the teacher a recipe trained (<c>&lt;output&gt;/best.safetensors</c>):
    /// M draws per training image from the recipe's seed, the teacher's outputs on each. Resumes a killed build.
    /// </summary>
    /// <param name="teacherRecipe">The teacher's recipe (its student section is the teacher).</param>
    /// <param name="draws">Draws per image (M).</param>
    /// <param name="topK">Classes kept per draw (0: full logits).</param>
    /// <param name="progress">Images done and the total.</param>
    /// <param name="notices">Where a discarded partial build is announced.</param>
    /// <returns>The store's path.</returns>
    /// <exception cref="ConfigException">Not a classification recipe, no trained teacher, or a transform that cannot record its draws.</exception>
    public static string Build(RunConfig teacherRecipe, int draws, int topK, IProgress<(int Done, int Total)>? progress = null, TextWriter? notices = null)
    {
        ArgumentNullException.ThrowIfNull(teacherRecipe);
        if (draws < 1)
        {
            throw new ConfigException($"--cache-soft-labels {draws}: the draws per image must be at least 1");
        }

        if (topK < 0)
        {
            throw new ConfigException($"--top-k {topK}: must be 0 (full logits) or a number of classes");
        }

        var task = TrainingTasks.Create(teacherRecipe.Task);
        if (task is not ClassificationTask)
        {
            throw new ConfigException($"--cache-soft-labels: a soft-label store serves classification only, but the recipe's task is {task.Name}");
        }

        var checkpoint = Path.Combine(teacherRecipe.Output, "best.safetensors");
        if (!File.Exists(checkpoint))
        {
            throw new ConfigException($"--cache-soft-labels: {checkpoint} does not exist (the teacher's training did not finish an epoch)");
        }

        var device = RunDevice.Resolve(teacherRecipe.Train.Device, "train.device (--device)");
        var seed = (ulong)teacherRecipe.Train.Seed;
        var loaders = DatasetFactory.Create(teacherRecipe.Data, seed, device);
        if (topK >= loaders.Classes)
        {
            throw new ConfigException($"--top-k {topK}: the data set has {loaders.Classes} classes; use 0 for the full logits or fewer than {loaders.Classes}");
        }

        using var teacher = TrainingRun.NewModel(task, "student.model", teacherRecipe.Student.Model, loaders.ModelOptions);
        TrainingRun.LoadWeights(teacher, checkpoint, "teacher", teacherRecipe.Student.Model, "train it first");
        teacher.To(device);
        var key = KeyFor(teacherRecipe.Student.Model, checkpoint, teacherRecipe.Data, loaders.Train, draws, topK);
        var path = Path.Combine(teacherRecipe.Output, FileName);
        try
        {
            SoftLabelStore.Build(path, key, teacher, loaders.Train, seed, device, progress, notices: notices);
        }
        catch (NotSupportedException e)
        {
            throw new ConfigException($"--cache-soft-labels: {e.Message}", e);
        }

        return path;
    }
}

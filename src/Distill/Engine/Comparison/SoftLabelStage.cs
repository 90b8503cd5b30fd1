using Distill.Configs;
using Distill.Engine.SoftLabels;
using Distill.Methods;
using Distill.Models;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Engine.Comparison;

/// <summary>
/// The quickstart's soft-label store (`quickstart --soft-labels M`): built once from the teacher stage's teacher over the
/// students' training data and transforms, beside the teacher's cache file, and reused until its key (teacher checksum,
/// data set, transforms, draws) changes. The student runs whose method reads only the teacher's logits take it as
/// teacher.soft_labels and do not run the teacher; the others keep the online teacher.
/// </summary>
/// <param name="Path">The store file.</param>
/// <param name="Cached">Whether it was found up to date rather than built now.</param>
/// <param name="Students">The plan's students, those that can use the store with teacher.soft_labels set.</param>
/// <param name="FromStore">The labels of the rows that train from the store.</param>
public sealed record SoftLabelStage(string Path, bool Cached, IReadOnlyList<ComparisonEntry> Students, IReadOnlyList<string> FromStore)
{
    /// <summary>The store's file beside <paramref name="teacherCheckpoint"/> (the teacher's cache file) for <paramref name="draws"/> draws per image.</summary>
    public static string StorePath(string teacherCheckpoint, int draws) =>
        System.IO.Path.ChangeExtension(teacherCheckpoint, null) + string.Create(System.Globalization.CultureInfo.InvariantCulture, $"-soft-labels-m{draws}.safetensors");

    /// <summary>The label of a row that trained from the store: "kd (soft labels)".</summary>
    public static string RowLabel(string label) => $"{label} (soft labels)";

    /// <summary><paramref name="rows"/> with the label of each row that trained from the store marked (<see cref="RowLabel"/>), so the table and report say which did.</summary>
    public IReadOnlyList<ComparisonRow> Mark(IReadOnlyList<ComparisonRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return [.. rows.Select(r => FromStore.Contains(r.Label) ? r with { Label = RowLabel(r.Label) } : r)];
    }

    /// <summary>Finds the store up to date or builds it (resuming a killed build), then points every student run that can use it at it.</summary>
    /// <param name="plan">The quickstart's plan (its teacher cache file is the teacher whose outputs are stored).</param>
    /// <param name="teacher">The teacher stage's teacher, loaded from that cache file.</param>
    /// <param name="draws">Draws per image (M, at least 1).</param>
    /// <param name="progress">Images done and the total while the store is built.</param>
    /// <param name="notices">Where a stale store about to be rebuilt is announced.</param>
    /// <exception cref="ConfigException">Not a classification quickstart, or a transform that cannot record its draws.</exception>
    public static SoftLabelStage Prepare(QuickstartPlan plan, TappedModel<Tensor> teacher, int draws, IProgress<(int Done, int Total)>? progress = null, TextWriter? notices = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        var first = plan.Students[0].Runs[0];
        var task = TrainingTasks.Create(first.Task);
        if (task is not ClassificationTask)
        {
            throw new ConfigException($"--soft-labels: a soft-label store serves classification only, but the quickstart's task is {task.Name}");
        }

        var device = RunDevice.Resolve(first.Train.Device, "train.device (--device)");
        var loaders = DatasetFactory.Create(first.Data, (ulong)first.Train.Seed, device);
        var key = SoftLabelBuilder.KeyFor(plan.Teacher.Student.Model, plan.TeacherCheckpoint, first.Data, loaders.Train, draws, topK: 0);
        var path = StorePath(plan.TeacherCheckpoint, draws);
        var cached = UpToDate(path, key, notices);
        if (!cached)
        {
            try
            {
                SoftLabelStore.Build(path, key, teacher, loaders.Train, (ulong)plan.Teacher.Train.Seed, device, progress, notices: notices);
            }
            catch (NotSupportedException e)
            {
                throw new ConfigException($"--soft-labels: {e.Message}", e);
            }
        }

        var labels = Enumerable.Range(0, loaders.Train.Dataset.Count).Select(loaders.Train.Dataset.LabelOf).ToArray();
        var fromStore = new List<string>();
        var students = new List<ComparisonEntry>();
        foreach (var entry in plan.Students)
        {
            if (!CanUse(entry.Runs[0], teacher, task, loaders.ModelOptions, labels))
            {
                students.Add(entry);
                continue;
            }

            fromStore.Add(entry.Method.Label);
            students.Add(entry with { Runs = [.. entry.Runs.Select(r => r with { Teacher = r.Teacher! with { SoftLabels = path } })] });
        }

        return new SoftLabelStage(path, cached, students, fromStore);
    }

    /// <summary>Whether the store at <paramref name="path"/> exists and was built from exactly <paramref name="key"/> (a stale or broken one is announced).</summary>
    private static bool UpToDate(string path, SoftLabelKey key, TextWriter? notices)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var store = SoftLabelStore.Open(path, key);
            if (store.Key == key)
            {
                return true;
            }

            notices?.WriteLine($"{path}: built with {store.Key.Draws} draws per image (top-k {store.Key.TopK}), {key.Draws} asked; rebuilding it");
        }
        catch (SoftLabelStoreException e)
        {
            notices?.WriteLine($"{e.Message}: rebuilding it");
        }

        return false;
    }

    /// <summary>Whether <paramref name="run"/>'s method takes the teacher's logits only (<see cref="SoftLabelStore.Refusal"/> of its distiller, built as the run builds it).</summary>
    private static bool CanUse(RunConfig run, TappedModel<Tensor> teacher, ITrainingTask task, ModelOptions options, int[] labels)
    {
        if (run.Teacher is null || MethodFactory.Find(run.Method.Name) is not { NeedsTeacher: true })
        {
            return false;
        }

        using var scope = DisposeScope.Enter();
        using var student = TrainingRun.NewModel(task, "student.model", run.Student.Model, options);
        using var distiller = MethodBuilder.Create(run.Method, MethodContext.FromModels(student, teacher, options, labels), run.Task);
        return SoftLabelStore.Refusal(distiller) is null;
    }
}

using System.Globalization;
using Distill.Configs;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Torch;

namespace Distill.Engine.Comparison;

/// <summary>
/// A comparison's teacher, trained once through <see cref="TrainingRun"/> from its recipe (a run folder beside the cache
/// file, resumed if a run was interrupted) and cached as a state dict, or loaded from that cache and evaluated.
/// Holds the teacher in memory for the students' runs.
/// </summary>
public sealed class TeacherStage : IDisposable
{
    private TeacherStage(TappedModel<Tensor> model, ComparisonRow row, ReportWriter.Series? series, bool cached, string checkpoint)
    {
        Model = model;
        Row = row;
        Series = series;
        Cached = cached;
        Checkpoint = checkpoint;
    }

    /// <summary>The teacher, on the recipe's device, in memory until disposed.</summary>
    public TappedModel<Tensor> Model { get; }

    /// <summary>Its table row: "teacher" with the final primary metric (classification: top-1) and time, or "teacher (cached)" with it measured now.</summary>
    public ComparisonRow Row { get; }

    /// <summary>Its curve when it was trained now; null when it came from the cache.</summary>
    public ReportWriter.Series? Series { get; }

    /// <summary>Whether it came from the cache.</summary>
    public bool Cached { get; }

    /// <summary>The cached weights (a state dict with the final test top-1 in its metadata).</summary>
    public string Checkpoint { get; }

    /// <summary>Loads <paramref name="checkpoint"/> when it exists; otherwise trains <paramref name="recipe"/> (in its output folder) and writes it.</summary>
    /// <param name="recipe">The teacher's recipe: its student section is the teacher model, its method none.</param>
    /// <param name="checkpoint">The cache file.</param>
    /// <param name="display">Shows the training run.</param>
    /// <exception cref="ConfigException">The recipe cannot run, or the cache file does not fit the model.</exception>
    public static TeacherStage TrainOrLoad(RunConfig recipe, string checkpoint, ComparisonDisplay? display = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var model = recipe.Student.Model;
        ComparisonRow? row = null;
        ReportWriter.Series? series = null;
        if (!File.Exists(checkpoint))
        {
            // Resumed when an earlier quickstart was interrupted: the same final weights as one uninterrupted run.
            var (summary, seconds) = ComparisonRun.Train("teacher", recipe, display, null, resume: true);
            using (DisposeScope.Enter())
            {
                using var file = SafeTensors.Load(Path.Combine(recipe.Output, "last.safetensors"));
                var final = summary.Epochs.Count > 0 ? summary.Epochs[^1].TestAccuracy : double.NaN;
                SafeTensors.Save(checkpoint, TrainingCheckpoint.ModelState(file), new Dictionary<string, string> { ["test_accuracy"] = final.ToString("R", CultureInfo.InvariantCulture) });
            }

            if (summary.Epochs.Count > 0)
            {
                row = new ComparisonRow(model, "teacher", [summary.Epochs[^1].TestAccuracy], seconds, summary.Epochs.Average(e => e.ImagesPerSecond))
                {
                    Breakdowns = summary.FinalEvaluation is { } evaluation ? [evaluation.Breakdown] : [],
                    Confusions = summary.FinalEvaluation?.Confusion is { } confusion ? [confusion] : [],
                    FinalMetrics = [summary.Epochs[^1].Metrics],
                    ClassNames = summary.ClassNames,
                };
                series = new ReportWriter.Series($"{model} teacher", summary.Epochs) { Steps = RunFolder.ReadSteps(recipe.Output) };
            }
        }

        var device = RunDevice.Resolve(recipe.Train.Device, "train.device (--device)");
        var data = DatasetFactory.Create(recipe.Data, (ulong)recipe.Train.Seed, device);
        var task = Tasks.TrainingTasks.Create(recipe.Task);
        var teacher = TrainingRun.NewModel(task, "student.model of the teacher's recipe", model, data.ModelOptions);
        try
        {
            using (DisposeScope.Enter())
            {
                using var file = SafeTensors.Load(checkpoint);
                CheckpointMismatch.Load(teacher, TrainingCheckpoint.ModelState(file), checkpoint, "student.model of the teacher's recipe", model);
            }

            teacher.To(device);
            var cached = row is null;
            if (row is null)
            {
                // The per-class values go to the report for a task that shows them (per-class IoU, per-class accuracy, per-category AP).
                var breakdown = task is Tasks.SegmentationTask or Tasks.ClassificationTask or Tasks.Detection.DetectionTask;
                var evaluation = Evaluator.Evaluate(teacher, data.Test, task, breakdown);
                row = new ComparisonRow(model, "teacher (cached)", [evaluation.Primary], 0, double.NaN)
                {
                    Breakdowns = breakdown ? [evaluation.Breakdown] : [],
                    Confusions = evaluation.Confusion is { } confusion ? [confusion] : [],
                    FinalMetrics = [evaluation.Metrics],
                    ClassNames = data.Train.Dataset.Classes,
                };
            }

            return new TeacherStage(teacher, row, series, cached, checkpoint);
        }
        catch
        {
            teacher.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}

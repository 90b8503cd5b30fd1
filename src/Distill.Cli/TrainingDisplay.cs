using Distill.Engine;
using Distill.Tasks;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>The live progress bar (epoch, step, loss, images/s, ETA) and the per-epoch lines that every training command shows.</summary>
internal static class TrainingDisplay
{
    /// <summary>
    /// Runs <paramref name="work"/> with a progress reporter and an epoch callback wired to the console; the bar's length follows
    /// the reported steps per epoch; <paramref name="task"/> labels its training and test metrics in the epoch lines (classification when null).
    /// </summary>
    public static T Run<T>(string title, int epochs, int batchesPerEpoch, Func<IProgress<TrainingProgress>, Action<EpochResult>, T> work, ITrainingTask? task = null)
    {
        task ??= TrainingTasks.Default;
        var metric = task.PrimaryMetricLabel;
        var trainMetric = task.TrainMetricLabel;
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, epochs * (double)batchesPerEpoch));
                var progress = new SynchronousProgress<TrainingProgress>(p =>
                {
                    bar.MaxValue = Math.Max(1, epochs * (double)p.Steps);
                    bar.Value = ((p.Epoch - 1) * (double)p.Steps) + p.Step;
                    bar.Description = Markup.Escape($"{title} epoch {p.Epoch}/{epochs} loss {p.Loss:F3} {p.ImagesPerSecond:F0} img/s");
                });
                result = work(progress, r => AnsiConsole.MarkupLine(Markup.Escape(
                    $"  {title} epoch {r.Epoch}: train {trainMetric} {r.TrainAccuracy:P2}, test {metric} {r.TestAccuracy:P2}, " +
                    $"{string.Join(", ", r.LossTerms.Select(t => $"{t.Key} {t.Value:F4}"))}, lr {r.LearningRate:G3}, {r.ImagesPerSecond:F0} img/s")));
            });
        return result;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

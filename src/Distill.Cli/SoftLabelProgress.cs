using Distill.Configs;
using Distill.Engine.SoftLabels;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>Builds a teacher's soft-label store with a progress bar (images done of the training set).</summary>
internal static class SoftLabelProgress
{
    public static string Build(RunConfig teacherRecipe, int draws, int topK)
    {
        var path = string.Empty;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var bar = context.AddTask(Markup.Escape($"soft labels x{draws}"), maxValue: 1);
                var progress = new Reporter(p =>
                {
                    bar.MaxValue = p.Total;
                    bar.Value = p.Done;
                });
                path = SoftLabelBuilder.Build(teacherRecipe, draws, topK, progress, Console.Error);
            });
        return path;
    }

    /// <summary>Reports on the calling thread.</summary>
    private sealed class Reporter(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}

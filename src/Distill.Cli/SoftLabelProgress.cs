using System.Globalization;
using Distill.Configs;
using Distill.Engine.SoftLabels;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>
/// Shows a soft-label store's build (images done of the training set): a progress bar on a terminal; otherwise (output
/// redirected to a file or a pipe) one plain line per tenth of the images and always a last one at 100 %, since a
/// progress bar off a terminal samples its tasks once a second at a few milestones and skips a task once it has finished.
/// </summary>
internal static class SoftLabelProgress
{
    /// <summary>Builds a trained teacher's store (`distill teacher --cache-soft-labels M`) on the console.</summary>
    public static string Build(RunConfig teacherRecipe, int draws, int topK) =>
        Run(AnsiConsole.Console, $"soft labels x{draws}", progress => SoftLabelBuilder.Build(teacherRecipe, draws, topK, progress, Console.Error));

    /// <summary>Runs <paramref name="work"/> with its progress shown on <paramref name="console"/> under <paramref name="title"/>.</summary>
    public static T Run<T>(IAnsiConsole console, string title, Func<IProgress<(int Done, int Total)>, T> work)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            var shown = -1;
            return work(new Reporter(p =>
            {
                // Tenths reached so far; the last report (all images) is always shown.
                var tenth = p.Total == 0 ? 10 : (int)(10L * p.Done / p.Total);
                if (tenth > shown || p.Done == p.Total)
                {
                    shown = p.Done == p.Total ? 11 : tenth;
                    var percent = p.Total == 0 ? 100 : 100.0 * p.Done / p.Total;
                    console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{title}: {p.Done:N0}/{p.Total:N0} images ({percent:F0} %)"));
                }
            }));
        }

        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var bar = context.AddTask(Markup.Escape(title), maxValue: 1);
                result = work(new Reporter(p =>
                {
                    bar.MaxValue = Math.Max(1, p.Total);
                    bar.Value = p.Done;
                }));
            });
        return result;
    }

    /// <summary>Reports on the calling thread.</summary>
    private sealed class Reporter(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}

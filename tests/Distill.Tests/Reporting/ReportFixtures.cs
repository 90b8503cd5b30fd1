using Distill.Engine;
using Distill.Engine.Reporting;
using Distill.NN.Metrics;
using Distill.Torch;

namespace Distill.Tests.Reporting;

/// <summary>A classification comparison's report with every figure: two methods over a number of seeds, with step logs.</summary>
internal static class ReportFixtures
{
    internal static readonly string[] Classes = ["t-shirt", "trouser", "pullover"];

    /// <summary>The ids every full classification report shows (sections of one figure kind each).</summary>
    internal static readonly string[] SectionIds = ["results", "epoch-curves", "method-bars", "step-curves", "per-class-accuracy", "run-info"];

    internal static EpochResult Epoch(int epoch, double test, double train, double ce = 0.5, double kd = 1.0) =>
        new(epoch, 0.05, new Dictionary<string, double> { ["ce"] = ce, ["kd"] = kd }, train, test, 100, 1);

    /// <summary>A step log of two epochs of 30 steps, logged every 10 (the total and rate moving with <paramref name="shift"/>).</summary>
    internal static TrainingProgress[] Steps(double shift) =>
    [
        .. from epoch in new[] { 1, 2 }
           from step in new[] { 10, 20, 30 }
           let t = ((epoch - 1) * 30) + step
           select new TrainingProgress(epoch, step, 30, 2.0 - (t / 60.0) + shift, 100, new Dictionary<string, double> { ["ce"] = 1.0 - (t / 120.0) + shift, ["kd"] = 1.0 - (t / 120.0) }, 0.5, 0.1 * (1 - (t / 60.0))),
    ];

    internal static ConfusionMatrix Confusion(long[] truth, long[] predicted)
    {
        var m = new ConfusionMatrix(Classes.Length, ignoreIndex: -1);
        using var scope = DisposeScope.Enter();
        m.Update(Tensor.From(predicted), Tensor.From(truth));
        return m;
    }

    /// <summary>The report: "alone" and "kd" rows of <paramref name="seeds"/> seeds each, every section a classification comparison writes.</summary>
    internal static string Render(int seeds)
    {
        var series = new List<ReportWriter.Series>();
        foreach (var (method, offset) in new[] { ("alone", 0.0), ("kd", 0.05) })
        {
            for (var s = 0; s < seeds; s++)
            {
                var d = offset + (0.01 * s);
                series.Add(new ReportWriter.Series($"resnet8 {method} seed {s}", [Epoch(1, 0.5 + d, 0.45 + d), Epoch(2, 0.6 + d, 0.58 + d)])
                {
                    Group = $"resnet8 {method}",
                    Steps = Steps(d),
                });
            }
        }

        var rows = new[]
        {
            new ReportWriter.ResultRow("resnet8", "alone", [.. Enumerable.Range(0, seeds).Select(s => 0.6 + (0.01 * s))]),
            new ReportWriter.ResultRow("resnet8", "kd", [.. Enumerable.Range(0, seeds).Select(s => 0.65 + (0.01 * s))]),
        };
        var confusion = Confusion([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]);
        IReportSection[] sections =
        [
            new PerClassAccuracySection(Classes, [new PerClassIoURun("alone", [.. Enumerable.Repeat<IReadOnlyList<double>>(confusion.PerClassAccuracy(), seeds)])]),
            new ConfusionMatrixSection(Classes, [.. Enumerable.Repeat(confusion, seeds)], "Confusion matrix: resnet8 alone"),
            new RunInfoSection("train:\n  seed: 0\n", [new("Distill", "1.0"), new("seed", "0")]),
        ];
        return ReportWriter.Render("Distill quickstart: <fixture>", series, rows, "top-1", sections);
    }
}

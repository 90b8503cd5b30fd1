using System.Globalization;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Parity;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The training-step time of every method through the real trainer: teacher resnet20 (frozen, eval, no-grad),
/// student resnet8, 1 x 28 x 28 inputs (Fashion-MNIST's size), batch 128, random in-memory data so the loader
/// costs nothing; each method trains one epoch of <c>steps</c> steps per round, rounds interleave the methods, and
/// the median ms/step is set against kd. Calibration passes (matching) run before the timed steps.
/// </summary>
internal static class MethodBench
{
    private static readonly (string Label, string Name, string[] Options)[] Methods =
    [
        ("none", "none", []), ("kd", "kd", []), ("kd+ls", "kd", ["logit_standardization=true", "temperature=2", "kd_weight=9"]), ("dkd", "dkd", []),
        ("ctkd", "ctkd", []), ("ctkd instance", "ctkd", ["temperature_mode=instance"]), ("ctkd+dkd", "ctkd", ["base=dkd"]),
        ("sdd [1,2]", "sdd", []), ("sdd [1,2,4]", "sdd", ["scales=[1,2,4]"]), ("ofa", "ofa", []), ("crd (K 4096)", "crd", ["nce_k=4096"]),
        ("crd queue 4096", "crd", ["queue_size=4096"]), ("tfd", "tfd", []), ("tfd+", "tfd+", []), ("fitnet", "fitnet", []), ("at", "at", []),
        ("cwd", "cwd", []), ("mgd", "mgd", []), ("ofd", "ofd", []), ("matching", "matching", ["match_images=1280"]),
    ];

    public static int Run(int rounds, int steps)
    {
        TorchRuntime.Threads = Environment.ProcessorCount;
        const int Batch = 128;
        var options = new ModelOptions(10, 1, 28);
        var random = new Random(1);
        var count = Batch * steps;
        var pixels = new byte[count * 28 * 28];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => i % 10).ToArray();
        string[] classes = [.. Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        var data = new InMemoryImageDataset(pixels, labels, 1, 28, 28, classes);
        var test = data.Take(Batch);
        TorchRuntime.ManualSeed(0);
        using var teacher = ModelRegistry.Create("resnet20", options);
        var times = Methods.ToDictionary(m => m.Label, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (label, name, methodOptions) in Methods)
            {
                TorchRuntime.ManualSeed(0);
                using var student = ModelRegistry.Create("resnet8", options);
                using var distiller = name == "none" ? null : MethodBuilder.Create(MethodCheck.Options(name, methodOptions), MethodContext.FromModels(student, teacher, options, labels));
                using var trainer = new Trainer(student, distiller is { NeedsTeacher: true } ? teacher : null, distiller, new TrainerOptions { Epochs = 1 });
                var result = trainer.Fit(new DataLoader(data, Batch, shuffle: true, seed: 1), new DataLoader(test, Batch))[0];
                times[label].Add(Batch / result.ImagesPerSecond * 1000);
            }
        }

        var kd = Median(times["kd"]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"training step, teacher resnet20 -> student resnet8, 1x28x28, batch {Batch}, {steps} steps x {rounds} rounds, {TorchRuntime.Threads} threads"));
        Console.WriteLine("| method | ms/step (median) | min-max | vs kd |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (label, _, _) in Methods)
        {
            var t = times[label];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {Median(t):F0} | {t.Min():F0}-{t.Max():F0} | {(Median(t) / kd - 1) * 100:+0;-0} % |"));
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}

using System.Diagnostics;
using System.Globalization;
using Distill.Models;
using Distill.NN;
using Distill.Torch;

namespace Distill.Benchmarks;

/// <summary>
/// The resnet32x4 teacher's forward alone (eval, no-grad, batch 64 of random 3x32x32) in the forms a frozen teacher
/// can run as, beside the same forms in PyTorch 1.13 eager (teacher_forward_bench.py, its own process, run first): as
/// loaded; batch norms folded into the convolutions (teacher.fold_bn, distill train's default); folded and fed
/// channels-last images; folded in bfloat16 (teacher.precision: bf16). Each side times every form in turn, round after
/// round; the table gives each form's median and range over the rounds.
/// </summary>
internal static class TeacherForwardBench
{
    private static readonly string[] Forms = ["as_loaded", "folded", "folded_channels_last", "folded_channels_last_inference", "folded_bf16"];

    public static int Run(int steps, int rounds, int threads)
    {
        TorchRuntime.Threads = threads;
        Console.WriteLine($"teacher forward: resnet32x4, batch 64, {steps} batches per measurement, {rounds} rounds, {threads} torch threads on both sides; load average {StepComparison.LoadAverage()} at the start");
        using var json = PythonScript.Run("teacher_forward_bench.py", steps.ToString(CultureInfo.InvariantCulture), rounds.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture));
        var theirs = Forms.ToDictionary(f => f, f => json.RootElement.GetProperty("images_per_second").GetProperty(f).EnumerateArray().Select(e => e.GetDouble()).ToArray());

        TorchRuntime.ManualSeed(0);
        using var teacher = Frozen(ModelRegistry.Create("resnet32x4"));
        using var folded = Frozen(ModelRegistry.Create("resnet32x4"));
        using var folded16 = Frozen(ModelRegistry.Create("resnet32x4"));
        using var x = Tensor.Randn([64, 3, 32, 32]).DetachFromScope();
        using var xLast = x.Contiguous(MemoryFormat.ChannelsLast).DetachFromScope();
        using var x16 = x.To(DType.BFloat16).DetachFromScope();
        foreach (var copy in new[] { folded, folded16 })
        {
            using var scope = DisposeScope.Enter();
            copy.LoadStateDict(teacher.StateDict());
            using var noGrad = Autograd.NoGrad();
            BatchNormFolding.Fold(copy, BatchNormFolding.FindPairs(copy, () => copy.Forward(x), new HashSet<string>()));
        }

        folded16.To(DType.BFloat16);
        var forms = new Dictionary<string, Action>
        {
            ["as_loaded"] = () => teacher.Forward(x),
            ["folded"] = () => folded.Forward(x),
            ["folded_channels_last"] = () => folded.Forward(xLast),
            ["folded_channels_last_inference"] = () =>
            {
                using var inference = Autograd.InferenceMode();
                folded.Forward(xLast);
            },
            ["folded_bf16"] = () => folded16.Forward(x16),
        };
        var ours = Forms.ToDictionary(f => f, _ => new List<double>());
        for (var r = 0; r < rounds; r++)
        {
            foreach (var form in Forms)
            {
                ours[form].Add(ImagesPerSecond(steps, forms[form]));
            }
        }

        Console.WriteLine($"load average: {StepComparison.LoadAverage()} at the end");
        Console.WriteLine($"{"form",-24} {"Distill img/s",22} {"PyTorch img/s",22} {"Distill/PyTorch",16} {"Distill/PyTorch as loaded",26}");
        foreach (var form in Forms)
        {
            var (o, t) = (Stats.Median([.. ours[form]]), Stats.Median(theirs[form]));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{form,-24} {Range(ours[form]),22} {Range(theirs[form]),22} {o / t,15:F2}x {o / Stats.Median(theirs["as_loaded"]),25:F2}x"));
        }

        return 0;
    }

    /// <summary>
    /// Ours only, for each model of the zoo named: the teacher's forward folded, and folded with channels-last images, on
    /// a batch of 64 images of the model's CIFAR size (3x32x32), rounds interleaved: where channels-last pays.
    /// </summary>
    public static int RunModels(IReadOnlyList<string> models, int steps, int rounds, int threads)
    {
        TorchRuntime.Threads = threads;
        Console.WriteLine($"teacher forward, Distill only: batch 64, {steps} batches per measurement, {rounds} rounds, {threads} threads; load average {StepComparison.LoadAverage()}");
        Console.WriteLine($"{"model",-16} {"folded img/s",20} {"channels-last img/s",20} {"ratio",8}");
        foreach (var name in models)
        {
            TorchRuntime.ManualSeed(0);
            using var model = Frozen(ModelRegistry.Create(name));
            using var x = Tensor.Randn([64, 3, 32, 32]).DetachFromScope();
            using var xLast = x.Contiguous(MemoryFormat.ChannelsLast).DetachFromScope();
            using (DisposeScope.Enter())
            {
                using var noGrad = Autograd.NoGrad();
                BatchNormFolding.Fold(model, BatchNormFolding.FindPairs(model, () => model.Forward(x), new HashSet<string>()));
            }

            var (plain, last) = (new List<double>(), new List<double>());
            for (var r = 0; r < rounds; r++)
            {
                plain.Add(ImagesPerSecond(steps, () => model.Forward(x)));
                last.Add(ImagesPerSecond(steps, () => model.Forward(xLast)));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-16} {Range(plain),20} {Range(last),20} {Stats.Median([.. last]) / Stats.Median([.. plain]),7:F2}x"));
        }

        return 0;
    }

    private static string Range(IReadOnlyList<double> rates) =>
        string.Create(CultureInfo.InvariantCulture, $"{Stats.Median([.. rates]):F1} ({rates.Min():F0}-{rates.Max():F0})");

    private static ClassificationModel Frozen(ClassificationModel model)
    {
        model.Eval();
        model.Freeze();
        return model;
    }

    /// <summary>Images per second of <paramref name="forward"/> under no-grad (<see cref="EndToEnd.ImagesPerSecond"/>: one untimed call, each in its own scope).</summary>
    private static double ImagesPerSecond(int steps, Action forward) => EndToEnd.ImagesPerSecond(steps, () =>
    {
        using var noGrad = Autograd.NoGrad();
        forward();
    });
}

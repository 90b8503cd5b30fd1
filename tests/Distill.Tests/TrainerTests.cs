using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Parity;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

public sealed class TrainerTests
{
    [Fact]
    public void Distillation_LearnsASimpleTask_LeavesTheTeacherUntouched_AndFreesEveryStepTensor()
    {
        var data = StripesDataset(256);
        var train = new DataLoader(data, 32, shuffle: true, seed: 1);
        var test = new DataLoader(data, 64);
        TorchRuntime.ManualSeed(0);
        using var teacher = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using (var teacherTrainer = new Trainer(teacher, null, null, new TrainerOptions { Epochs = 10, Schedule = "cosine" }))
        {
            var r = teacherTrainer.Fit(train, test);
            Assert.True(r[^1].TestAccuracy > 0.9, $"the teacher did not learn the task: {string.Join("; ", r)}");
        }

        byte[][] teacherBefore;
        using (DisposeScope.Enter())
        {
            teacherBefore = teacher.StateDict().Values.Select(t => t.ToBytes()).ToArray();
        }

        var baseline = TensorTracking.LiveCount;
        IReadOnlyList<EpochResult> results;
        using (var trainer = new Trainer(student, teacher, new KnowledgeDistillation(), new TrainerOptions { Epochs = 3, Schedule = "cosine", LearningRate = 0.05 }))
        {
            results = trainer.Fit(train, test);
        }

        Assert.Equal(baseline, TensorTracking.LiveCount);
        Assert.Equal(3, results.Count);
        Assert.Equal(["ce", "kd"], results[0].LossTerms.Keys);
        Assert.True(results[^1].TestAccuracy > 0.9, $"test accuracy {results[^1].TestAccuracy}");
        Assert.False(teacher.IsTraining);
        using (DisposeScope.Enter())
        {
            Assert.Equal(teacherBefore, teacher.StateDict().Values.Select(t => t.ToBytes()).ToArray());
        }
    }

    [Theory]
    [InlineData("kd+ls")]
    [InlineData("dkd")]
    [InlineData("dkd+ls")]
    public void LogitMethod_ShortRun_LossFallsAndStaysFinite(string method)
    {
        var data = StripesDataset(128);
        var train = new DataLoader(data, 32, shuffle: true, seed: 2);
        var test = new DataLoader(data, 64);
        TorchRuntime.ManualSeed(4);
        using var teacher = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using (var t = new Trainer(teacher, null, null, new TrainerOptions { Epochs = 6, Schedule = "cosine" }))
        {
            t.Fit(train, test);
        }

        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using Distiller distiller = method switch
        {
            "kd+ls" => KnowledgeDistillation.WithLogitStandardization(),
            "dkd" => new DecoupledKnowledgeDistillation(new() { Warmup = 1 }),
            _ => new DecoupledKnowledgeDistillation(new() { Alpha = 9, Beta = 72, Temperature = 2, Warmup = 1, LogitStandardization = true }),
        };
        using var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 3, Schedule = "cosine", LearningRate = 0.01 });
        var results = trainer.Fit(train, test);
        var totals = results.Select(r => r.LossTerms.Values.Sum()).ToArray();
        Assert.All(totals, v => Assert.True(double.IsFinite(v), $"{method}: loss {v}"));
        Assert.True(totals[^1] < totals[0], $"{method}: loss went {string.Join(" -> ", totals)}");
    }

    [Theory]
    [InlineData("sdd", new[] { "scales=[1,2,4]" })]
    [InlineData("sdd", new[] { "base=dkd", "warmup=1" })]
    [InlineData("ctkd", new[] { "base=dkd", "warmup=1" })]
    [InlineData("ctkd", new[] { "temperature_mode=instance" })]
    [InlineData("tfd", new[] { "warmup=1" })]
    [InlineData("tfd+", new[] { "warmup=1" })]
    [InlineData("fitnet", new string[0])]
    [InlineData("at", new string[0])]
    [InlineData("cwd", new string[0])]
    [InlineData("mgd", new string[0])]
    [InlineData("ofd", new string[0])]
    [InlineData("matching", new[] { "match_images=64", "update_freq=2" })]
    [InlineData("matching", new[] { "match_images=64", "reducer=rd", "with_kd=true" })]
    [InlineData("crd", new[] { "nce_k=32" })]
    [InlineData("crd", new[] { "queue_size=48", "kd_weight=1" })]
    [InlineData("ofa", new string[0])]
    public void RegisteredMethod_ShortRunWithAWiderTeacher_LossFallsAndStaysFinite(string method, string[] options)
    {
        var data = StripesDataset(128);
        var train = new DataLoader(data, 32, shuffle: true, seed: 2);
        var test = new DataLoader(data, 64);
        var modelOptions = new ModelOptions(2, 1, 16);
        TorchRuntime.ManualSeed(4);
        using var teacher = ModelRegistry.Create("resnet8x4", modelOptions);
        using (var t = new Trainer(teacher, null, null, new TrainerOptions { Epochs = 4, Schedule = "cosine" }))
        {
            t.Fit(train, test);
        }

        using var student = ModelRegistry.Create("resnet8", modelOptions);
        var config = MethodCheck.Options(method, options);
        using var distiller = MethodBuilder.Create(config, MethodContext.FromModels(student, teacher, modelOptions, data.Labels))!;
        // Earlier tests' garbage is finalized first; then every tensor of the run must be disposed by a scope, none
        // left to the finalizer.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = TensorTracking.LiveCount;
        var finalized = TensorTracking.FinalizedCount;
        IReadOnlyList<EpochResult> results;
        using (var trainer = new Trainer(student, distiller.NeedsTeacher ? teacher : null, distiller, new TrainerOptions { Epochs = 3, Schedule = "cosine", LearningRate = 0.01 }))
        {
            results = trainer.Fit(train, test);
        }

        Assert.Equal(baseline, TensorTracking.LiveCount);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(finalized, TensorTracking.FinalizedCount);
        var totals = results.Select(r => r.LossTerms.Values.Sum()).ToArray();
        Assert.All(results.SelectMany(r => r.LossTerms), t => Assert.True(double.IsFinite(t.Value), $"{method}: {t.Key} = {t.Value}"));
        Assert.True(totals[^1] < totals[0], $"{method}: loss went {string.Join(" -> ", totals)}");
    }

    [Theory]
    [InlineData("resnet8", "vit")]
    [InlineData("vit", "resnet8")]
    public void Ofa_HeterogeneousPair_TrainsWithFiniteFallingLoss(string teacherName, string studentName)
    {
        var data = StripesDataset(96);
        var train = new DataLoader(data, 32, shuffle: true, seed: 3);
        var test = new DataLoader(data, 96);
        var modelOptions = new ModelOptions(2, 1, 16);
        TorchRuntime.ManualSeed(5);
        // A narrow ViT (dim 32, depth 4) keeps the test short; the projector code is the one vit_tiny uses.
        ClassificationModel Create(string name) => name == "vit" ? new VisionTransformer(2, 1, 16, embedDim: 32, depth: 4, heads: 2) : ModelRegistry.Create(name, modelOptions);
        using var teacher = Create(teacherName);
        using (var t = new Trainer(teacher, null, null, new TrainerOptions { Epochs = 3, Schedule = "cosine", LearningRate = 0.02 }))
        {
            t.Fit(train, test);
        }

        using var student = Create(studentName);
        using var distiller = MethodFactory.Create(new OneForAllDistillation.Options { Eps = [1.5] }, MethodContext.FromModels(student, teacher, modelOptions));
        using var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 3, Schedule = "cosine", LearningRate = 0.01 });
        var results = trainer.Fit(train, test);
        var totals = results.Select(r => r.LossTerms.Values.Sum()).ToArray();
        Assert.Equal(["ce", "kd", "ofa"], results[0].LossTerms.Keys);
        Assert.All(totals, v => Assert.True(double.IsFinite(v), $"{teacherName} -> {studentName}: loss {v}"));
        Assert.True(totals[^1] < totals[0], $"{teacherName} -> {studentName}: loss went {string.Join(" -> ", totals)}");
    }

    [Fact]
    public void MethodThatNeedsATeacher_WithoutOne_IsRejected()
    {
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1));
        var e = Assert.Throws<ArgumentException>(() => new Trainer(student, null, new KnowledgeDistillation(), new TrainerOptions()));
        Assert.Contains("needs a teacher", e.Message, StringComparison.Ordinal);
    }

    // Class 0: bright left half; class 1: bright right half. Learnable in a few steps.
    internal static InMemoryImageDataset StripesDataset(int count, int height = 16, int width = 16)
    {
        var pixels = new byte[count * height * width];
        var labels = new int[count];
        var random = new Random(5);
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var bright = (x < width / 2) == (labels[i] == 0);
                    pixels[(i * height * width) + (y * width) + x] = (byte)((bright ? 200 : 30) + random.Next(0, 40));
                }
            }
        }

        return new InMemoryImageDataset(pixels, labels, 1, height, width, ["left", "right"]);
    }
}

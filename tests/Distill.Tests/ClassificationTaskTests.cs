using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.NN.Metrics;
using Distill.Parity;
using Distill.Tasks;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>The classification task: its "ce" term, its one evaluation loop (top-1, top-5, per class), and "none" as a method that adds nothing.</summary>
public sealed class ClassificationTaskTests
{
    [Fact]
    public void Evaluate_GivesTheSameTop1Top5AndPerClassAsAPlainLoop_AndRestoresTrainingMode()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(5);
        using var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 16));
        var loader = Loader(37, 10);
        model.Train();

        var evaluation = Evaluator.Evaluate(model, loader, breakdown: true);

        Assert.True(model.IsTraining);
        model.Eval();
        using var noGrad = Autograd.NoGrad();
        var logits = Tensor.Cat(loader.Epoch(0).Select(b => model.Forward(b.Images)).ToArray(), 0);
        var labels = Tensor.Cat(loader.Epoch(0).Select(b => b.Labels).ToArray(), 0);
        var confusion = new ConfusionMatrix(10, ignoreIndex: -1);
        confusion.Update(logits.ArgMax(1), labels);
        Assert.Equal(37, evaluation.Samples);
        Assert.Equal([ClassificationTask.Top1, ClassificationTask.Top5], evaluation.Metrics.Keys);
        Assert.Equal(confusion.OverallAccuracy, evaluation.Primary);
        Assert.Equal(Accuracy.TopK(logits, labels, 5), evaluation.Metrics[ClassificationTask.Top5]);
        Assert.Equal(confusion.PerClassAccuracy(), evaluation.Breakdown);
        Assert.Equal(evaluation.Primary, Evaluator.Accuracy(model, loader));
    }

    [Fact]
    public void Evaluate_ReportsNoTop5_UnderFiveClasses()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create("resnet8", new ModelOptions(3, 1, 16));
        var task = new ClassificationTask();

        var evaluation = task.Evaluate(model, Loader(9, 3));

        Assert.Equal([ClassificationTask.Top1], evaluation.Metrics.Keys);
        Assert.Empty(evaluation.Breakdown);
        Assert.StartsWith("top-1 ", task.Describe(evaluation), StringComparison.Ordinal);
    }

    [Fact]
    public void Loss_IsTheWeightedLabelSmoothedCrossEntropy_NamedCe()
    {
        using var scope = DisposeScope.Enter();
        var logits = Tensor.From([1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f], 2, 3);
        var labels = Tensor.From([1L, 2L]);

        var terms = new ClassificationTask(0.5, 0.1).Loss(logits, labels);

        Assert.Equal(["ce"], terms.Terms.Select(t => t.Name));
        Assert.Equal((F.CrossEntropy(logits, labels, labelSmoothing: 0.1) * 0.5).Item<float>(), terms["ce"].Item<float>());
    }

    [Fact]
    public void None_IsARegisteredMethodThatAddsNothing_AndNeedsNoTeacher()
    {
        using var scope = DisposeScope.Enter();
        using var none = MethodBuilder.Create(new Distill.Configs.MethodConfig());
        var logits = Tensor.From([1.0f, 2.0f, 0.5f], 1, 3);
        var labels = Tensor.From([2L]);
        var inputs = new DistillationInputs(logits, null, labels, labels, null, null, 1);

        Assert.IsType<NoDistillation>(none);
        Assert.False(MethodFactory.Find("none")!.NeedsTeacher);
        Assert.Empty(none.ComputeLoss(inputs).Terms);
        Assert.Equal(["ce"], ClassificationTask.Default.StepLoss(none, inputs).Terms.Select(t => t.Name));
        Assert.Equal(F.CrossEntropy(logits, labels).Item<float>(), ClassificationTask.Default.StepLoss(none, inputs).Total().Item<float>());
    }

    [Fact]
    public void MethodCeWeights_BecomeTheTaskLossWeight_WithTheMethodsDefaults()
    {
        using var kd = MethodFactory.Create("kd");
        using var dkd = MethodFactory.Create("dkd");
        using var ctkdDkd = MethodFactory.Create(new CurriculumTemperatureDistillation.Options { Base = "dkd" });
        using var kdGiven = MethodFactory.Create(new KnowledgeDistillation.Options { CeWeight = 0.3 });

        Assert.Equal(0.1, ClassificationTask.Default.For(kd).LossWeight);
        Assert.Equal(1, ClassificationTask.Default.For(dkd).LossWeight);
        Assert.Equal(1, ClassificationTask.Default.For(ctkdDkd).LossWeight);
        Assert.Equal(0.3, ClassificationTask.Default.For(kdGiven).LossWeight);
        Assert.Equal(1, ClassificationTask.Default.For(null).LossWeight);
    }

    private static DataLoader Loader(int count, int classes)
    {
        var random = new Random(7);
        var pixels = new byte[count * 16 * 16];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        var dataset = new InMemoryImageDataset(pixels, labels, 1, 16, 16, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());
        return new DataLoader(dataset, 16);
    }
}

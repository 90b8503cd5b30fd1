using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// student.channels_last: a classification student on the CPU trains with channels-last convolution weights and
/// images, computing what the student as built computes to float rounding; its tapped maps reach methods contiguous.
/// </summary>
public sealed class StudentChannelsLastTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-student-cl-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string> ClassificationModels() => [.. ModelRegistry.Names.Select(n => n.Name)];

    /// <summary>
    /// Every zoo classifier with channels-last weights and images: the same logits and parameter gradients as laid out
    /// as built. The two layouts run different convolution kernels, whose sums round differently (a few ulps per layer);
    /// 5e-3 of a tensor's largest magnitude (for gradients at least a hundredth of the model's largest gradient, since a
    /// convolution bias before a batch norm gets a gradient that is rounding alone) leaves room for that through the
    /// deepest models (a weight gradient sums 2,048 products with cancellation; resnet50_cifar's measured 1.7e-3), while a layer that misreads the layout (a view of a channels-last map as NCHW) is wrong by the
    /// values' own size. Eval mode: batch statistics of two images at 1x1 (the ImageNet-layout models' last stages)
    /// would divide rounding by a near-zero spread, which is the batch's conditioning, not the layout's.
    /// </summary>
    [Theory]
    [MemberData(nameof(ClassificationModels))]
    public void AZooClassifier_ChannelsLast_ComputesTheSameLogitsAndGradients(string name)
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(0);
        using var model = ModelRegistry.Create(name);
        model.Eval();
        var x = Tensor.Randn([2, 3, 32, 32]);
        var (logits, grads) = LogitsAndGradients(model, x);
        model.To(MemoryFormat.ChannelsLast);
        var conv = model.Parameters().FirstOrDefault(p => p.Dim == 4);
        if (conv is not null)
        {
            Assert.Equal(1L, conv.Strides[1]); // channels innermost
        }

        var (lastLogits, lastGrads) = LogitsAndGradients(model, x.Contiguous(MemoryFormat.ChannelsLast));
        AssertClose(name + " logits", logits, lastLogits, 0);
        var floor = grads.Values.Max(g => g.Abs().Max().Item<float>()) / 100;
        foreach (var (key, g) in grads)
        {
            AssertClose($"{name} {key}.grad", g, lastGrads[key], floor);
        }
    }

    /// <summary>
    /// KD (logits), FitNet (a tapped student map, read by the method's regressor) and the student alone, trained with the
    /// student channels-last and as built, from the same weights on the same batches: nothing said, and the first
    /// epoch's mean loss (three SGD steps) agrees to 1e-5 relative. Only convolution rounding differs (about 1e-7 of the
    /// loss here), while a misread layout in the forward, the backward or the optimizer's update moves the loss at once.
    /// Later epochs are not compared: training amplifies rounding by about ten times per epoch on this tiny set (the
    /// student alone measured 7e-8, 3e-4, 3e-4, 2e-3 relative over four epochs), which says nothing about the layout.
    /// </summary>
    [Theory]
    [InlineData("kd")]
    [InlineData("fitnet")]
    [InlineData("none")]
    public void Runs_WithAChannelsLastStudent_GiveTheLossesOfTheStudentAsBuilt(string method)
    {
        var (recipe, checkpoint) = TinyTeacher.Train(_root);
        var losses = new List<double[]>();
        foreach (var channelsLast in new[] { "true", "false" })
        {
            var run = Recipes.Parse(recipe, overrides:
            [
                $"method.name={method}", "teacher.model=resnet8", $"teacher.checkpoint={checkpoint}",
                $"student.channels_last={channelsLast}", $"output={Path.Combine(_root, method + channelsLast)}",
            ]);
            var notices = new StringWriter();
            var summary = TrainingRun.Execute(run, notices: notices);
            Assert.DoesNotContain("student.", notices.ToString(), StringComparison.Ordinal);
            losses.Add(summary.Epochs.Select(e => e.LossTerms.Values.Sum()).ToArray());
        }

        Assert.True(Math.Abs(losses[0][0] - losses[1][0]) <= 1e-5 * Math.Abs(losses[1][0]), $"{method}: first epoch channels-last {losses[0][0]}, as built {losses[1][0]}");
        Assert.All(losses.SelectMany(l => l), l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void ChannelsLast_IsOnByDefault_NotWrittenAtTheDefault_AndReadWhenFalse()
    {
        const string recipe = "student:\n  model: resnet8\nmethod:\n  name: none\n";
        var config = Recipes.Parse(recipe, "recipe.yaml");
        Assert.True(config.Student.ChannelsLast);
        Assert.DoesNotContain("channels_last", ConfigWriter.ToYaml(config), StringComparison.Ordinal);
        var off = Recipes.Parse(recipe, "recipe.yaml", overrides: ["student.channels_last=false"]);
        Assert.False(off.Student.ChannelsLast);
        Assert.False(Recipes.Parse(ConfigWriter.ToYaml(off), "config.yaml").Student.ChannelsLast);
    }

    private static (Tensor Logits, Dictionary<string, Tensor> Grads) LogitsAndGradients(ClassificationModel model, Tensor x)
    {
        model.ZeroGrad();
        var logits = model.Forward(x);
        F.CrossEntropy(logits, Tensor.Zeros([x.Shape[0]], DType.Int64)).Backward();
        return (logits.Detach(), model.NamedParameters().Where(p => p.Parameter.Grad is not null).ToDictionary(p => p.Name, p => p.Parameter.Grad!.Clone()));
    }

    private static void AssertClose(string what, Tensor expected, Tensor actual, float floor)
    {
        var e = expected.Contiguous().ToArray<float>();
        var a = actual.Contiguous().ToArray<float>();
        var scale = Math.Max(e.Max(Math.Abs), Math.Max(floor, 1e-12f));
        var worst = e.Zip(a).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst <= 5e-3 * scale, $"{what}: largest difference {worst} against largest magnitude {scale}");
    }
}

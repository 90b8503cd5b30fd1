using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN;
using Distill.Tasks;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests;

/// <summary>
/// teacher.fold_bn: the teacher trains as a copy with its batch norms folded into its convolutions, equal to the teacher
/// to float rounding; a convolution a method taps keeps its own output; a fold that would change what the teacher
/// computes is refused and said.
/// </summary>
public sealed class TeacherFoldingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-fold-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>
    /// KD (logits) and FitNet (a tapped stage map) with the trained teacher as distill train runs it by default (batch norms
    /// folded, channels-last images) and as loaded: nothing is refused or said, and the losses agree to float rounding
    /// carried through six SGD steps (1e-4 relative; a teacher computing something else moves them by far more).
    /// </summary>
    [Theory]
    [InlineData("kd")]
    [InlineData("fitnet")]
    public void Runs_WithTheTeacherFoldedAndChannelsLast_GiveTheLossesOfTheTeacherAsLoaded(string method)
    {
        var (recipe, checkpoint) = TinyTeacher.Train(_root);
        var losses = new List<double[]>();
        foreach (var fast in new[] { "true", "false" })
        {
            var run = Recipes.Parse(recipe, overrides:
            [
                $"method.name={method}", "teacher.model=resnet8", $"teacher.checkpoint={checkpoint}",
                $"teacher.fold_bn={fast}", $"teacher.channels_last={fast}", $"output={Path.Combine(_root, method + fast)}",
            ]);
            var notices = new StringWriter();
            var summary = TrainingRun.Execute(run, notices: notices);
            Assert.DoesNotContain("teacher.", notices.ToString(), StringComparison.Ordinal);
            losses.Add(summary.Epochs.Select(e => e.LossTerms.Values.Sum()).ToArray());
        }

        Assert.All(losses[0].Zip(losses[1]), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * Math.Abs(p.Second), $"{method}: folded and channels-last {p.First}, as loaded {p.Second}"));
    }

    [Fact]
    public void FoldBn_IsOnByDefault_NotWrittenAtTheDefault_AndReadWhenFalse()
    {
        const string recipe = "student:\n  model: resnet8\nteacher:\n  model: resnet20\n  checkpoint: t.safetensors\nmethod:\n  name: kd\n";
        var config = Recipes.Parse(recipe, "recipe.yaml");
        Assert.True(config.Teacher!.FoldBn);
        Assert.DoesNotContain("fold_bn", ConfigWriter.ToYaml(config), StringComparison.Ordinal);
        var off = Recipes.Parse(recipe, "recipe.yaml", overrides: ["teacher.fold_bn=false"]);
        Assert.False(off.Teacher!.FoldBn);
        Assert.False(Recipes.Parse(ConfigWriter.ToYaml(off), "config.yaml").Teacher!.FoldBn);
    }

    /// <summary>
    /// resnet8's 9 batch norms all follow a convolution: the copy folds them all, keeps the teacher's weights and dtype
    /// untouched and draws nothing from the seeded generator; its logits and taps equal the teacher's to float32 rounding
    /// (a handful of ulps per layer through 9 layers: 1e-5 of the largest value is generous, a wrong fold is off by O(1)).
    /// </summary>
    [Fact]
    public void FoldBn_TrainsWithAFoldedCopy_EqualToTheTeacher_WhichStaysAsLoaded()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = TrainedLikeResnet8();
        var before = teacher.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal);
        TorchRuntime.ManualSeed(5);
        var expectedDraw = Tensor.Rand([4]).ToArray<float>();
        TorchRuntime.ManualSeed(5);
        using var copy = TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8" }, teacher, new ModelOptions(), Device.Cpu, [], TextWriter.Null, out _);
        Assert.Equal(expectedDraw, Tensor.Rand([4]).ToArray<float>());
        Assert.NotSame(teacher, copy);
        var batchNorms = copy.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().ToArray();
        Assert.Equal(9, batchNorms.Length);
        Assert.All(batchNorms, bn => Assert.IsType<Conv2d>(bn.FoldedInto));
        Assert.All(teacher.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>(), bn => Assert.Null(bn.FoldedInto));
        Assert.All(before, p => Assert.Equal(p.Value.To(DType.Float64).ToArray<double>(), teacher.StateDict()[p.Key].To(DType.Float64).ToArray<double>()));

        var x = Tensor.Randn([3, 3, 32, 32]);
        using var noGrad = Autograd.NoGrad();
        using var teacherTaps = teacher.TapFeatures("stage2", "stage3.preact");
        var want = teacher.Forward(x);
        var (wantStage2, wantPreact) = (teacherTaps["stage2"].Clone(), teacherTaps["stage3.preact"].Clone());
        using var copyTaps = copy.TapFeatures("stage2", "stage3.preact");
        var got = copy.Forward(x);
        AssertClose(want, got, "logits");
        AssertClose(wantStage2, copyTaps["stage2"], "stage2");
        AssertClose(wantPreact, copyTaps["stage3.preact"], "stage3.preact");
    }

    [Fact]
    public void FoldBn_KeepsTheConvolutionsAMethodTapsByModulePath()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = TrainedLikeResnet8();
        using var copy = TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8" }, teacher, new ModelOptions(), Device.Cpu, ["conv1", "logits"], TextWriter.Null, out _);
        var modules = copy.NamedModules().ToDictionary(m => m.Path, m => m.Module, StringComparer.Ordinal);
        Assert.Null(((BatchNorm2d)modules["bn1"]).FoldedInto);
        Assert.Null(((Conv2d)modules["conv1"]).Bias);
        Assert.Equal(8, modules.Values.OfType<BatchNorm2d>().Count(bn => bn.FoldedInto is not null));
    }

    [Fact]
    public void FoldBn_False_TrainsWithTheLoadedTeacherItself()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = ModelRegistry.Create("resnet8", new ModelOptions());
        Assert.Same(teacher, TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8", FoldBn = false, ChannelsLast = false }, teacher, new ModelOptions(), Device.Cpu, [], TextWriter.Null, out var format));
        Assert.Equal(MemoryFormat.Contiguous, format);
    }

    /// <summary>Channels-last needs no copy: the teacher as loaded takes channels-last images and gives what it gives on NCHW ones.</summary>
    [Fact]
    public void ChannelsLast_OnTheCpu_FeedsTheTeacherChannelsLastImages_WithTheSameLogits()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = TrainedLikeResnet8();
        Assert.Same(teacher, TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8", FoldBn = false }, teacher, new ModelOptions(), Device.Cpu, [], TextWriter.Null, out var format));
        Assert.Equal(MemoryFormat.ChannelsLast, format);
        var x = Tensor.Randn([3, 3, 32, 32]);
        using var noGrad = Autograd.NoGrad();
        var last = x.Contiguous(MemoryFormat.ChannelsLast);
        Assert.Equal([3 * 32 * 32, 1, 32 * 3, 3], last.Strides);
        AssertClose(teacher.Forward(x), TrainingTeacher.Forward(teacher, DType.Float32, x, format), "logits");
    }

    [Fact]
    public void ChannelsLast_IsNotUsedForABf16Teacher()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = TrainedLikeResnet8();
        using var copy = TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8", Precision = "bf16" }, teacher, new ModelOptions(), Device.Cpu, [], TextWriter.Null, out var format);
        Assert.Equal(MemoryFormat.Contiguous, format);
        Assert.All(copy.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>(), bn => Assert.NotNull(bn.FoldedInto));
    }

    /// <summary>A network that adds a convolution's raw output to its batch norm's: folding would change the sum, so the check refuses it and names the module that differs.</summary>
    [Fact]
    public void Fold_OfAConvolutionWhoseOutputAlsoFeedsASum_IsRefused_NamingTheModuleThatDiffers()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(3);
        using var teacher = new SkipAroundBatchNorm();
        using var copy = new SkipAroundBatchNorm();
        using (Autograd.NoGrad())
        {
            var bn = teacher.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().Single();
            bn.RunningMean!.FillInPlace(0.5);
            bn.RunningVar!.FillInPlace(4);
        }

        copy.LoadStateDict(teacher.StateDict());
        teacher.Eval();
        copy.Eval();
        using var noGrad = Autograd.NoGrad();
        var input = Tensor.Randn([1, 1, 6, 6]);
        using var expected = TrainingTeacher.ModuleOutputs(teacher, input);
        var pairs = BatchNormFolding.FindPairs(copy, () => copy.Forward(input), new HashSet<string>());
        Assert.Equal([("conv", "bn")], pairs);
        BatchNormFolding.Fold(copy, pairs);
        Assert.False(TrainingTeacher.Agrees(copy, input, expected, new HashSet<string> { "conv" }, out var refusal));
        Assert.Contains("differs by", refusal, StringComparison.Ordinal);
        Assert.Contains("'fc'", refusal, StringComparison.Ordinal);
    }

    /// <summary>A segmentation teacher (any input size) is checked on one image of at most 128x128, not the data's crop size: the check copies every layer's output.</summary>
    [Fact]
    public void Checks_OfATeacherThatTakesAnySize_RunOnAnImageOfAtMost128Pixels()
    {
        using var scope = DisposeScope.Enter();
        var options = new ModelOptions(4, 3, 160, 200);
        var task = TrainingTasks.Create("segmentation");
        TorchRuntime.ManualSeed(1);
        using var teacher = TrainingRun.NewModel(task, "teacher.model", "deeplabv3_resnet18", options);
        teacher.DryRun(options);
        teacher.Eval();
        teacher.Freeze();
        Assert.True(teacher.InputSizeVaries);
        var seen = new List<long[]>();
        using var hook = teacher.RegisterForwardHook((_, input, _) => seen.Add(((Tensor)input).Shape));
        using var copy = TrainingTeacher.ForTraining(task, new ModelConfig { Model = "deeplabv3_resnet18" }, teacher, options, Device.Cpu, [], TextWriter.Null, out var format);
        Assert.NotEmpty(seen);
        Assert.All(seen, shape => Assert.Equal([1L, 3, 128, 128], shape));
        Assert.Equal(MemoryFormat.ChannelsLast, format);
        Assert.Contains(copy.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>(), bn => bn.FoldedInto is not null);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var scale = expected.Abs().Max().Item<float>();
        var difference = (actual - expected).Abs().Max().Item<float>();
        Assert.True(difference <= 1e-5 * scale, $"{what}: folded differs by {difference} (largest value {scale})");
    }

    /// <summary>resnet8 with batch norms that are not the identity (running statistics and affine parameters drawn), in eval mode.</summary>
    private static TappedModel<Tensor> TrainedLikeResnet8()
    {
        TorchRuntime.ManualSeed(7);
        var model = ModelRegistry.Create("resnet8", new ModelOptions());
        using (Autograd.NoGrad())
        {
            foreach (var bn in model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>())
            {
                bn.RunningMean!.CopyFrom(Tensor.Randn([bn.NumFeatures]) * 0.3);
                bn.RunningVar!.CopyFrom((Tensor.Rand([bn.NumFeatures]) * 2) + 0.2);
                bn.Weight!.CopyFrom((Tensor.Rand([bn.NumFeatures]) * 1.5) + 0.25);
                bn.Bias!.CopyFrom(Tensor.Randn([bn.NumFeatures]) * 0.2);
            }
        }

        model.DryRun(new ModelOptions());
        model.Eval();
        model.Freeze();
        return model;
    }

    /// <summary>conv -> bn, plus the conv's raw output: y = bn(conv(x)) + conv(x), pooled to logits.</summary>
    private sealed class SkipAroundBatchNorm : ClassificationModel
    {
        private readonly Conv2d _conv;
        private readonly BatchNorm2d _bn;
        private readonly Linear _fc;

        public SkipAroundBatchNorm()
        {
            _conv = RegisterModule("conv", new Conv2d(1, 4, 3, padding: 1));
            _bn = RegisterModule("bn", new BatchNorm2d(4));
            _fc = RegisterModule("fc", new Linear(4, 2));
            AddTap("logits", "fc");
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var c = _conv.Forward(input);
            return _fc.Forward(F.AdaptiveAvgPool2d(_bn.Forward(c) + c, (1, 1)).Flatten(1));
        }
    }
}

using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.Tasks;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// teacher.precision: the key is read, checked and written back; a bfloat16 teacher's logits and tapped maps agree with
/// PyTorch's bfloat16 forward of the same weights (eng/golden/bf16_teacher.py) and stay within bfloat16's rounding of the
/// float32 teacher's; a KD run with a bfloat16 teacher trains.
/// </summary>
public sealed class TeacherPrecisionTests : IDisposable
{
    private static readonly JsonFixture Golden = new("bf16_teacher.json");

    private readonly string _root = Directory.CreateTempSubdirectory("distill-bf16-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private const string Recipe = """
        student:
          model: resnet8
        teacher:
          model: resnet20
          checkpoint: teacher.safetensors
        method:
          name: kd
        """;

    [Fact]
    public void Precision_DefaultsToFp32_AndIsNotWrittenAtTheDefault()
    {
        var config = Recipes.Parse(Recipe, "recipe.yaml");
        Assert.Equal("fp32", config.Teacher!.Precision);
        Assert.DoesNotContain("precision", ConfigWriter.ToYaml(config), StringComparison.Ordinal);
    }

    [Fact]
    public void Bf16_IsRead_WrittenInTheConfigEcho_AndReadBack()
    {
        var config = Recipes.Parse(Recipe.Replace("checkpoint: teacher.safetensors", "checkpoint: teacher.safetensors\n  precision: bf16", StringComparison.Ordinal), "recipe.yaml");
        Assert.Equal("bf16", config.Teacher!.Precision);
        var yaml = ConfigWriter.ToYaml(config);
        Assert.Contains("precision: \"bf16\"", yaml, StringComparison.Ordinal);
        Assert.Equal("bf16", Recipes.Parse(yaml, "config.yaml").Teacher!.Precision);
    }

    [Fact]
    public void UnknownPrecision_IsAConfigErrorNamingTheKeyItsLineAndTheAllowedValues()
    {
        var recipe = Recipe.Replace("checkpoint: teacher.safetensors", "checkpoint: teacher.safetensors\n  precision: fp16", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(recipe, "recipe.yaml"));
        Assert.Equal("recipe.yaml:6: teacher.precision is 'fp16'; allowed: fp32, bf16", e.Message);
    }

    /// <summary>
    /// Our bfloat16 copy of resnet20 (<see cref="TrainingTeacher.ForTraining"/>, batch norms unfolded as PyTorch's copy has them, fed as the trainer feeds it) against
    /// PyTorch's model.to(torch.bfloat16) on the same weights and input. Both round to bfloat16 along the same chain;
    /// kernels of other processors (oneDNN picks AVX-512 BF16, AMX or an emulation) may flip roundings, so the two are
    /// allowed twice one computation's rounding (<see cref="GoldenTolerance.BFloat16Chain"/>).
    /// </summary>
    [Fact]
    public void Bf16Teacher_LogitsAndPooledTap_MatchPyTorchsBf16Forward()
    {
        using var scope = DisposeScope.Enter();
        var (logits, pooled) = Bf16LogitsAndPooled();
        Assert.Equal(DType.Float32, logits.DType);
        Assert.Equal(DType.Float32, pooled.DType);
        GoldenTensor.Parse(Golden.Root.GetProperty("logits_bf16")).AssertMatches(logits, "bf16 logits", GoldenTolerance.BFloat16Chain(LogitRoundings, 2, "resnet20 logits"));
        GoldenTensor.Parse(Golden.Root.GetProperty("pooled_bf16")).AssertMatches(pooled, "bf16 pooled", GoldenTolerance.BFloat16Chain(LogitRoundings - 2, 2, "resnet20 pooled"));
    }

    /// <summary>
    /// The bfloat16 teacher against the float32 teacher (PyTorch's float32 forward of the same weights, itself within a
    /// float32 chain's rounding, which is negligible here): one bfloat16 computation's rounding. Measured on the
    /// fixture's machine: logits within 0.7 % of their RMS, the pooled map within 2 %, against a bound of 11 %.
    /// </summary>
    /// <remarks>Folded (teacher.fold_bn, the default) the chain rounds fewer times: no batch-norm outputs, each folded weight once.</remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16Teacher_FoldedOrNot_StaysWithinBf16RoundingOfTheFp32Teacher(bool foldBn)
    {
        using var scope = DisposeScope.Enter();
        var (logits, pooled) = Bf16LogitsAndPooled(foldBn);
        GoldenTensor.Parse(Golden.Root.GetProperty("logits_fp32")).AssertMatches(logits, "bf16 logits against fp32", GoldenTolerance.BFloat16Chain(LogitRoundings, 1, "resnet20 logits"));
        GoldenTensor.Parse(Golden.Root.GetProperty("pooled_fp32")).AssertMatches(pooled, "bf16 pooled against fp32", GoldenTolerance.BFloat16Chain(LogitRoundings - 2, 1, "resnet20 pooled"));
    }

    /// <summary>The bfloat16 resnet20's logits and pooled tap on the fixture's input, fed as the trainer feeds it (in the caller's scope).</summary>
    private static (Tensor Logits, Tensor Pooled) Bf16LogitsAndPooled(bool foldBn = false)
    {
        var (copy, input) = Bf16Resnet20(foldBn);
        using (copy)
        {
            using var taps = copy.TapFeatures("pooled");
            taps.ReadAs = DType.Float32;
            using var noGrad = Autograd.NoGrad();
            var logits = TrainingTeacher.Forward(copy, DType.BFloat16, input);
            return (logits, taps["pooled"].Clone());
        }
    }

    [Fact]
    public void Fp32Precision_WithoutFolding_TrainsWithTheLoadedTeacherItself()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = ModelRegistry.Create("resnet8", new ModelOptions());
        var same = TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8", FoldBn = false }, teacher, new ModelOptions(), Device.Cpu, [], TextWriter.Null, out _);
        Assert.Same(teacher, same);
    }

    [Fact]
    public void Bf16Copy_LeavesTheSharedTeacherInFloat32_AndDrawsNothingFromTheSeededGenerator()
    {
        using var scope = DisposeScope.Enter();
        using var teacher = ModelRegistry.Create("resnet8", new ModelOptions());
        TorchRuntime.ManualSeed(5);
        var expected = Tensor.Rand([4]).ToArray<float>();
        TorchRuntime.ManualSeed(5);
        using var copy = TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet8", Precision = "bf16", FoldBn = false }, teacher, new ModelOptions(), Device.Cpu, [], TextWriter.Null, out _);
        Assert.Equal(expected, Tensor.Rand([4]).ToArray<float>());
        Assert.All(teacher.Parameters(), p => Assert.Equal(DType.Float32, p.DType));
        Assert.All(copy.Parameters(), p => Assert.Equal(DType.BFloat16, p.DType));
        // Every weight is the teacher's rounded to bfloat16: within 2^-8 of it, relatively.
        var rounded = copy.Parameters().First().To(DType.Float32).ToArray<float>();
        var original = teacher.Parameters().First().ToArray<float>();
        Assert.All(rounded.Zip(original), p => Assert.True(Math.Abs(p.First - p.Second) <= GoldenTolerance.BFloat16UnitRoundoff * Math.Abs(p.Second), $"{p.First} is not {p.Second} rounded to bfloat16"));
    }

    /// <summary>KD (logits) and FitNet (a tapped teacher map, read as float32 through a regressor that saves it for backward) with a bfloat16 teacher: the loss falls.</summary>
    [Fact]
    public void KdAndFitnetRuns_WithABf16Teacher_Train()
    {
        var (recipe, checkpoint) = TinyTeacher.Train(_root);
        foreach (var method in new[] { "kd", "fitnet" })
        {
            var run = Recipes.Parse(recipe, overrides:
            [
                $"method.name={method}", "teacher.model=resnet8", $"teacher.checkpoint={checkpoint}",
                "teacher.precision=bf16", "train.epochs=3", $"output={Path.Combine(_root, method)}",
            ]);
            var summary = TrainingRun.Execute(run);
            Assert.Contains("precision: \"bf16\"", File.ReadAllText(Path.Combine(run.Output, "config.yaml")), StringComparison.Ordinal);
            var totals = summary.Epochs.Select(e => e.LossTerms.Values.Sum()).ToArray();
            Assert.All(totals, t => Assert.True(double.IsFinite(t), $"{method}: a non-finite loss"));
            Assert.True(totals[^1] < totals[0], $"{method}: the loss did not fall ({string.Join(", ", totals)})");
        }
    }

    // Roundings to bfloat16 along resnet20's chain to its logits: the input, each of the 20 weight layers' weights and
    // outputs (19 convolutions and the classifier), the 19 batch norms' outputs, 9 residual sums (3 stages of 3 blocks)
    // and the pooled mean; the pooled tap has the classifier's two fewer.
    private const int LogitRoundings = 1 + (2 * 20) + 19 + 9 + 1;

    /// <summary>resnet20 with the model goldens' deterministic weights, its bfloat16 copy and the fixture's float32 input.</summary>
    private static (TappedModel<Tensor> Copy, Tensor Input) Bf16Resnet20(bool foldBn)
    {
        var options = new ModelOptions();
        using var model = ModelRegistry.Create("resnet20", options);
        var keys = Golden.Root.GetProperty("keys").EnumerateArray().Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(v => v.GetInt64()).ToArray())).ToArray();
        var own = model.StateDict();
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var k = 0; k < keys.Length; k++)
        {
            var (key, shape) = keys[k];
            state[key] = key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? own[key].Clone() : ModelGoldenTests.Deterministic(key, shape, k);
        }

        model.LoadStateDict(state);
        var copy = TrainingTeacher.ForTraining(TrainingTasks.Default, new ModelConfig { Model = "resnet20", Precision = "bf16", FoldBn = foldBn }, model, options, Device.Cpu, [], TextWriter.Null, out _);
        copy.Eval();
        var inputShape = Golden.Root.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var input = (Tensor.Linspace(0, 1, inputShape.Aggregate(1L, (a, b) => a * b)) * 77).Sin().Reshape(inputShape);
        return (copy, input);
    }
}

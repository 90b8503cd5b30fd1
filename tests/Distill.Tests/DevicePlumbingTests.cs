using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Parity;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// The run's device reaches every tensor: models, every method's parameters, buffers and state, the optimizer's
/// state, the batches and the trainer's sums; a CUDA device this libtorch cannot use is one error naming the key.
/// </summary>
public sealed class DevicePlumbingTests
{
    private static readonly Lazy<GlyphPool> DetectionGlyphs = new(() => GlyphPool.ForSplit(SceneSplit.Test));

    /// <summary>Every registered method, with options that keep one epoch of 32 images small.</summary>
    public static TheoryData<string, string[]> Methods()
    {
        var data = new TheoryData<string, string[]>();
        // Each on the first task it applies to: classifiers on stripes, (segmentation-only methods) toy segmenters on squares,
        // or (detection-only methods) the CPU-sized FCOS pair on detection scenes with the detection task.
        foreach (var d in MethodFactory.Descriptors)
        {
            data.Add(d.Name, d.Name switch
            {
                "crd" => ["nce_k=16"],
                "matching" => ["match_images=32", "update_freq=1"],
                "skd" => ["d_conv_dim=8"],
                _ => [],
            });
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void TrainingEpoch_OnAnExplicitDevice_PutsEveryParameterBufferAndStateTensorThere(string method, string[] options)
    {
        var device = Device.Parse("cpu");
        var task = MethodFactory.Find(method)!.AppliesTo[0];
        var segmentation = task == MethodDescriptor.Segmentation;
        var detection = task == MethodDescriptor.Detection;
        var stripes = TrainerTests.StripesDataset(32);
        IImageDataset data = detection ? new DetectionSceneSet(DetectionGlyphs.Value, SceneSplit.Test, 8) : segmentation ? SkdMethodTests.Squares(32) : stripes;
        ITransform? normalize = detection ? new Normalize([DetectionSceneSet.Mean], [DetectionSceneSet.Std]) : null;
        var train = new DataLoader(data, detection ? 4 : 16, shuffle: true, seed: 1, transform: normalize) { Device = device };
        var test = new DataLoader(data, detection ? 8 : 32, transform: normalize) { Device = device };
        var modelOptions = detection ? DetectionModels.DefaultOptions("det_scene_student") : segmentation ? new ModelOptions(3, 3, 16) : new ModelOptions(2, 1, 16);
        TorchRuntime.ManualSeed(3);
        using TappedModel<Tensor> teacher = detection ? DetectionModels.Create("det_scene_teacher", modelOptions) : segmentation ? SkdMethodTests.Segmenter(3, 8) : ModelRegistry.Create("resnet8x4", modelOptions);
        using TappedModel<Tensor> student = detection ? DetectionModels.Create("det_scene_student", modelOptions) : segmentation ? SkdMethodTests.Segmenter(3, 4) : ModelRegistry.Create("resnet8", modelOptions);
        using var distiller = MethodBuilder.Create(MethodCheck.Options(method, options), MethodContext.FromModels(student, teacher, modelOptions, segmentation || detection ? null : stripes.Labels))!;
        student.To(device);
        teacher.To(device);
        distiller.To(device);
        ITrainingTask? trainingTask = detection ? DetectionTask.Default : segmentation ? SegmentationTask.Default : null;
        using var trainer = new Trainer(student, distiller.NeedsTeacher ? teacher : null, distiller,
            new TrainerOptions { Epochs = 1, Schedule = "cosine", LearningRate = 0.01, Device = device }, trainingTask);
        var results = trainer.Fit(train, test);

        Assert.All(results.SelectMany(r => r.LossTerms), t => Assert.True(double.IsFinite(t.Value), $"{method}: {t.Key} = {t.Value}"));
        var tensors = Named("student", student).Concat(Named("teacher", teacher)).Concat(Named("method", distiller))
            .Concat(trainer.Optimizer.StateTensors().Select(s => (Name: $"optimizer.{s.Key}", Tensor: s.Value)))
            .Concat(trainer.MethodOptimizer?.StateTensors().Select(s => (Name: $"method_optimizer.{s.Key}", Tensor: s.Value)) ?? []).ToList();
        Assert.NotEmpty(trainer.Optimizer.StateTensors());
        Assert.All(tensors, t => Assert.True(t.Tensor.Device == device, $"{method}: {t.Name} is on {t.Tensor.Device}, not {device}"));
    }

    [Fact]
    public void Matching_OnTheDetectionScenePair_TakesTheDetectron2FactorsAndRunsAnEpochWithItsMatchingPass()
    {
        // The detection preset: divisors [1, 1, 0.1, 0.1] and loss factor 5e7 on the backbone stages' pre-ReLU maps.
        var data = new DetectionSceneSet(DetectionGlyphs.Value, SceneSplit.Test, 8);
        var normalize = new Normalize([DetectionSceneSet.Mean], [DetectionSceneSet.Std]);
        var options = DetectionModels.DefaultOptions("det_scene_student");
        TorchRuntime.ManualSeed(3);
        using var teacher = DetectionModels.Create("det_scene_teacher", options);
        using var student = DetectionModels.Create("det_scene_student", options);
        using var distiller = (MatchingGuidedDistillation)MethodBuilder.Create(MethodCheck.Options("matching", ["match_images=8", "update_freq=1"]), MethodContext.FromModels(student, teacher, options), MethodDescriptor.Detection);
        Assert.Equal(5e7, distiller.LossFactor);
        Assert.Equal(["stage1.preact", "stage2.preact", "stage3.preact", "stage4.preact"], distiller.StudentTaps);

        using var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 1, Schedule = "cosine", LearningRate = 0.01 }, DetectionTask.Default);
        var results = trainer.Fit(new DataLoader(data, 4, shuffle: true, seed: 1, transform: normalize), new DataLoader(data, 8, transform: normalize));

        Assert.Equal([DetectionTask.FocalTerm, DetectionTask.BoxTerm, DetectionTask.CenternessTerm, "mgd_match"], results[0].LossTerms.Keys);
        Assert.All(results[0].LossTerms, t => Assert.True(double.IsFinite(t.Value), $"{t.Key} = {t.Value}"));
    }

    [Fact]
    public void Fit_LoadersOnAnotherDeviceThanTheTrainer_IsAnErrorNamingBoth()
    {
        var data = TrainerTests.StripesDataset(8);
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using var trainer = new Trainer(student, null, null, new TrainerOptions { Epochs = 1, Schedule = "cosine", Device = Device.Meta });
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(new DataLoader(data, 4), new DataLoader(data, 4)));
        Assert.Equal("the loaders put batches on cpu and cpu but the trainer runs on meta: give both loaders Device = meta", e.Message);
    }

    [Fact]
    public void DataLoader_BatchesOnTheCpuDevice_ComeAsTheHostMadeThem()
    {
        var data = TrainerTests.StripesDataset(8);
        using var scope = DisposeScope.Enter();
        var plain = new DataLoader(data, 4).Epoch(0).First();
        var explicitCpu = new DataLoader(data, 4) { Device = Device.Cpu }.Epoch(0).First();
        Assert.Equal(Device.Cpu, explicitCpu.Images.Device);
        Assert.Equal(plain.Images.ToArray<float>(), explicitCpu.Images.ToArray<float>());
        Assert.Equal(plain.Labels.ToArray<long>(), explicitCpu.Labels.ToArray<long>());
    }

    [Fact]
    public void DataLoader_OnTheMetaDevice_MovesImagesLabelsAndIndices()
    {
        var data = TrainerTests.StripesDataset(8);
        using var scope = DisposeScope.Enter();
        var batch = new DataLoader(data, 4) { Device = Device.Meta }.Epoch(0).First();
        Assert.Equal([Device.Meta, Device.Meta, Device.Meta], new[] { batch.Images.Device, batch.Labels.Device, batch.Indices.Device });
        Assert.Equal([4L, 1, 16, 16], batch.Images.Shape);
    }

    [Fact]
    public void Resolve_ACudaIndexPastTheLastDevice_IsOneErrorNamingTheKeyAndDistillInfo()
    {
        // cuda:<count> never exists: on this machine (no CUDA) it is cuda:0, on a GPU machine the one after the last.
        var device = Device.Cuda(TorchRuntime.CudaDeviceCount);
        var e = Assert.Throws<ConfigException>(() => RunDevice.Resolve(device.ToString(), "train.device"));
        Assert.StartsWith($"train.device is {device}, but {device} is not available: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("`distill info`", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_CudaOnALibtorchWithoutCuda_SaysSoAndNamesTheVersion()
    {
        if (TorchRuntime.CudaIsAvailable)
        {
            return; // the path under test is the CPU-only machine's
        }

        var e = Assert.Throws<ConfigException>(() => RunDevice.Resolve("cuda", "--device"));
        Assert.Equal($"--device is cuda:0, but cuda:0 is not available: this libtorch ({TorchRuntime.LibTorchVersion}) has no CUDA support or sees no GPU; "
            + "`distill info` lists the devices this libtorch can use (use cpu to run on the host)", e.Message);
    }

    [Fact]
    public void Resolve_TextThatNamesNoDevice_IsAnErrorNamingTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => RunDevice.Resolve("gpu0", "--device"));
        Assert.Equal("--device: 'gpu0' is not a device: expected cpu, cuda or cuda:N.", e.Message);
    }

    [Fact]
    public void Resolve_Cpu_IsTheCpu() => Assert.Equal(Device.Cpu, RunDevice.Resolve("CPU", "--device"));

    [Fact]
    public void TrainDevice_Cuda_IsReadAsCudaZero_AndRoundTripsThroughTheWriter()
    {
        var config = Recipes.Parse(Recipe + "  device: cuda\n", "recipe.yaml");
        Assert.Equal("cuda:0", config.Train.Device);
        Assert.Equal("cuda:0", Recipes.Parse(ConfigWriter.ToYaml(config)).Train.Device);
        Assert.Equal("cpu", Recipes.Parse(Recipe).Train.Device);
        Assert.DoesNotContain("device", ConfigWriter.ToYaml(Recipes.Parse(Recipe)), StringComparison.Ordinal);
    }

    [Fact]
    public void TrainDevice_TextThatNamesNoDevice_IsAnErrorAtItsLine()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe + "  device: gpu\n", "recipe.yaml"));
        Assert.Equal("recipe.yaml:7: train.device: 'gpu' is not a device: expected cpu, cuda or cuda:N.", e.Message);
    }

    [Fact]
    public void Resume_OnAnotherDevice_IsNotADifference()
    {
        var saved = Recipes.Parse(Recipe);
        var recipe = Recipes.Parse(Recipe, overrides: ["train.device=cuda:1"]);
        Assert.Empty(RecipeDiff.Differences(saved, recipe, completedEpochs: 1));
    }

    [Fact]
    public void Execute_OnACudaDeviceThisMachineLacks_RefusesBeforeTheFolderIsTouched()
    {
        var output = Path.Combine(Path.GetTempPath(), $"distill-device-{Guid.NewGuid():N}");
        var device = Device.Cuda(TorchRuntime.CudaDeviceCount);
        var config = Recipes.Parse(Recipe, overrides: [$"train.device={device}", $"output={output}"]);
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(config, notices: TextWriter.Null));
        Assert.StartsWith($"train.device (--device) is {device}, but {device} is not available: ", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    private const string Recipe = """
        data:
          dataset: fashion-mnist
        student:
          model: resnet8
        train:
          epochs: 1

        """;

    private static IEnumerable<(string Name, Tensor Tensor)> Named(string owner, NN.Module module) =>
        module.NamedParameters().Select(p => ($"{owner}.{p.Name}", p.Parameter)).Concat(module.NamedBuffers().Select(b => ($"{owner}.{b.Name}", b.Buffer)));
}

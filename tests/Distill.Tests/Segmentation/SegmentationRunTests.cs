using Distill.Configs;
using Distill.Engine;
using Distill.NN.Checkpoints;
using Distill.Engine.Comparison;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Tasks;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Segmentation;

/// <summary>A segmentation recipe end to end: the scene set, a segmenter, its auxiliary term, the model/task check and the quickstart plan.</summary>
public sealed class SegmentationRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-seg-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Recipe(string student, string extra = "") => $"""
        task: segmentation
        data:
          dataset: scenes
          train_subset: 48
          test_subset: 16
          batch_size: 16
        student:
          model: {student}
        train:
          epochs: 1
          lr: 0.05
          schedule: poly
          step_per: iteration
          seed: 1
        output: {Path.Combine(_root, student)}
        {extra}
        """;

    [Fact]
    public void SceneRecipe_TrainsASegmenter_WithTheAuxiliaryTermAndMiou()
    {
        var summary = TrainingRun.Execute(Recipes.Parse(Recipe("scene_student")));
        var epoch = Assert.Single(summary.Epochs);
        Assert.Equal(["ce", SegmentationTask.AuxiliaryTerm], epoch.LossTerms.Keys);
        Assert.All(epoch.LossTerms.Values, v => Assert.True(double.IsFinite(v) && v > 0, $"term {v}"));
        Assert.Equal(SegmentationTask.MeanIoU, epoch.PrimaryMetric);
        Assert.InRange(epoch.Metrics[SegmentationTask.MeanIoU], 0, 1);
        Assert.InRange(epoch.Metrics[SegmentationTask.PixelAccuracy], 0, 1);
        Assert.Equal(epoch.Metrics[SegmentationTask.MeanIoU], epoch.TestAccuracy);
    }

    [Fact]
    public void ClassifierInASegmentationRecipe_IsRefused_NamingTheKeyAndBothTasks()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(Recipes.Parse(Recipe("resnet8"))));
        Assert.Contains("student.model", e.Message, StringComparison.Ordinal);
        Assert.Contains("resnet8 is a classification model", e.Message, StringComparison.Ordinal);
        Assert.Contains("scene_student", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "resnet8", "last.safetensors")));
    }

    [Fact]
    public void StepLoss_AddsPointFourTimesTheAuxiliaryHeadsCrossEntropy_WhenTheModelPublishesIt()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(5);
        using var model = SegmentationModels.Create("scene_student", new ModelOptions(11, 1, 64));
        var task = SegmentationTask.Default;
        Assert.Equal([SegmentationModel.AuxLogitsTap], task.StudentTaps(model));
        var masks = Tensor.RandInt(0, 11, [2, 64, 64]);
        using var taps = model.TapFeatures(task.StudentTaps(model));
        var logits = model.Forward(Tensor.Randn([2, 1, 64, 64]));
        var terms = task.StepLoss(null, new DistillationInputs(logits, null, new MaskBatch(masks), Tensor.Zeros([2], DType.Int64), taps, null, 1));
        var expected = task.PixelCrossEntropy(taps[SegmentationModel.AuxLogitsTap], masks).Item<float>() * 0.4;
        Assert.Equal(expected, terms[SegmentationTask.AuxiliaryTerm].Item<float>(), 1e-6);
        Assert.Equal(task.PixelCrossEntropy(logits, masks).Item<float>(), terms[SegmentationTask.LossTerm].Item<float>());

        // Without the auxiliary weight the task reads no tap and adds no term.
        Assert.Empty(new SegmentationTask(auxiliaryWeight: 0).StudentTaps(model));
    }

    /// <summary>Exports a few scenes as image and label PNG folders, as SceneExporter writes them, under root/{split}/.</summary>
    private string ExportedScenes()
    {
        var root = Path.Combine(_root, "exported");
        var scenes = SegmentationSceneSet.Load(SceneSplit.Test);
        SceneExporter.Export(scenes, Path.Combine(root, "train"), 6);
        SceneExporter.Export(scenes, Path.Combine(root, "val"), 3);
        return root;
    }

    [Fact]
    public void SegmentationFolderRecipe_ReadsItsPresetFoldersSplitsAndTrainingCropsScales()
    {
        var root = ExportedScenes();
        var recipe = Recipes.Parse($$"""
            task: segmentation
            data:
              dataset: segmentation-folder
              root: {{root}}
              preset: scenes
              img_dir: "{split}/images"
              ann_dir: "{split}/labels"
              scale_range: [1.25, 1.5]
              crop_size: 48
              cat_max_ratio: 0.99
              batch_size: 2
              augment: none
            student:
              model: scene_student
            """, "folder.yaml");
        var loaders = DatasetFactory.Create(recipe.Data, 3);
        Assert.Equal((6, 3, 11, 1), (loaders.Train.Dataset.Count, loaders.Test.Dataset.Count, loaders.Classes, loaders.Channels));
        Assert.Equal((48, 48), (loaders.Height, loaders.Width));
        using var scope = DisposeScope.Enter();
        var batch = loaders.Train.Epoch(0).First();
        Assert.Equal([2L, 1, 48, 48], batch.Images.Shape);
        Assert.Equal([2L, 48, 48], ((MaskBatch)batch.Targets).Masks.Shape);

        // The test split is read whole, one image per batch (a folder's images may differ in size).
        var test = loaders.Test.Epoch(0).First();
        Assert.Equal([1L, 1, 64, 64], test.Images.Shape);
        Assert.Equal(1, loaders.Test.BatchSize);

        // Another split name, and the custom preset's folders, are read from the same keys.
        var renamed = recipe.Data with { TestSplit = "train" };
        Assert.Equal(6, DatasetFactory.Create(renamed, 3).Test.Dataset.Count);
        var custom = recipe.Data with { Preset = "custom", Classes = 11, ImageDir = null, LabelDir = null };
        var e = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(custom, 3));
        Assert.Contains(Path.Combine(root, "images"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BackboneWeights_StartTheSegmentersBackbone_AndAClassifiersHeadIsSkipped()
    {
        var weights = Path.Combine(_root, "r18.safetensors");
        float[] expected;
        using (DisposeScope.Enter())
        {
            TorchRuntime.ManualSeed(11);
            using var resnet = ModelRegistry.Create("resnet18", new ModelOptions(10, 1, 64));
            var state = resnet.StateDict();
            SafeTensors.Save(weights, state);
            expected = state["layer2.0.conv1.weight"].ToArray<float>();
        }

        // Learning rate 0: the convolutions keep the weights they started from.
        var recipe = Recipes.Parse($"""
            task: segmentation
            data:
              dataset: scenes
              train_subset: 4
              test_subset: 2
              batch_size: 4
            student:
              model: deeplabv3_resnet18
              backbone_weights: {weights}
            train:
              epochs: 1
              lr: 0
            output: {Path.Combine(_root, "backbone")}
            """, "backbone.yaml");
        TrainingRun.Execute(recipe);
        using (DisposeScope.Enter())
        {
            using var last = SafeTensors.Load(Path.Combine(recipe.Output, "last.safetensors"));
            Assert.Equal(expected, TrainingCheckpoint.ModelState(last)["backbone.layer2.0.conv1.weight"].ToArray<float>());
        }

        var missing = recipe with { Student = recipe.Student with { BackboneWeights = Path.Combine(_root, "none.safetensors") }, Output = Path.Combine(_root, "missing") };
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(missing));
        Assert.Contains("student.backbone_weights", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmentationMethods_TakeTheirSegmentationPresets_UnlessTheRecipeGivesAValue()
    {
        var cwd = MethodFactory.Find("cwd")!;
        var preset = cwd.WithPreset("segmentation", new Dictionary<string, object>());
        Assert.Equal("logits", preset["student_tap"]);
        Assert.Equal("logits", preset["teacher_tap"]);
        var given = cwd.WithPreset("segmentation", new Dictionary<string, object> { ["student_tap"] = "stage4", ["temperature"] = 2.0 });
        Assert.Equal("stage4", given["student_tap"]);
        Assert.Equal(2.0, given["temperature"]);
        Assert.Equal("logits", given["teacher_tap"]);

        // Classification keeps the method's own defaults.
        Assert.Empty(cwd.WithPreset("classification", new Dictionary<string, object>()));

        // An alias of a preset key counts as the recipe's value: the preset's mgd alpha yields to alpha_mgd.
        var mgd = MethodFactory.Find("mgd")!.WithPreset("segmentation", new Dictionary<string, object> { ["alpha_mgd"] = 1e-4 });
        Assert.False(mgd.ContainsKey("alpha"));
        Assert.Equal(1e-4, mgd["alpha_mgd"]);
    }

    [Fact]
    public void SegmentationQuickstart_PlansTheSceneRecipes_WithTheFastSubsets()
    {
        var plan = Quickstart.Plan(new QuickstartOptions
        {
            Task = "segmentation",
            Fast = true,
            Output = _root,
            RunDirectory = Path.Combine(_root, "qs"),
            Methods = [new ComparisonMethod("cwd", "cwd", [])],
        });
        Assert.Equal("segmentation", plan.Teacher.Task);
        Assert.Equal("scenes", plan.Teacher.Data.Dataset);
        Assert.Equal("scene_teacher", plan.Teacher.Student.Model);
        Assert.Equal((Quickstart.FastTrainScenes, Quickstart.FastTestScenes), (plan.TrainImages, plan.TestImages));
        Assert.All(plan.Students.SelectMany(s => s.Runs), r => Assert.Equal(("segmentation", "scene_student", "scene_teacher"), (r.Task, r.Student.Model, r.Teacher!.Model)));
        Assert.Throws<ConfigException>(() => Quickstart.Plan(new QuickstartOptions { Task = "tracking", Output = _root }));
    }
}

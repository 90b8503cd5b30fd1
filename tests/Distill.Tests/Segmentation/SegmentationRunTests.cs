using Distill.Configs;
using Distill.Engine;
using Distill.Engine.Comparison;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Segmentation;
using Distill.NN.Data;
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

    [Fact]
    public void SegmentationQuickstart_PlansTheSceneRecipes_WithTheFastSubsets()
    {
        var plan = Quickstart.Plan(new QuickstartOptions
        {
            Task = "segmentation",
            Fast = true,
            Output = _root,
            RunDirectory = Path.Combine(_root, "qs"),
            Methods = [new ComparisonMethod("fitnet", "fitnet", [])],
        });
        Assert.Equal("segmentation", plan.Teacher.Task);
        Assert.Equal("scenes", plan.Teacher.Data.Dataset);
        Assert.Equal("scene_teacher", plan.Teacher.Student.Model);
        Assert.Equal((Quickstart.FastTrainScenes, Quickstart.FastTestScenes), (plan.TrainImages, plan.TestImages));
        Assert.All(plan.Students.SelectMany(s => s.Runs), r => Assert.Equal(("segmentation", "scene_student", "scene_teacher"), (r.Task, r.Student.Model, r.Teacher!.Model)));
        Assert.Throws<ConfigException>(() => Quickstart.Plan(new QuickstartOptions { Task = "detection", Output = _root }));
    }
}

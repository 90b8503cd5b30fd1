using Distill.Configs;
using Distill.Engine;
using Distill.Models.Detection;
using Distill.NN.Data;
using Distill.NN.Data.Scenes;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>The detection task: FCOS's loss through the task, its running metric, COCO evaluation and training through the trainer.</summary>
public sealed class DetectionTaskTests
{
    private static readonly Lazy<GlyphPool> TestGlyphs = new(() => GlyphPool.ForSplit(SceneSplit.Test));

    private static DataLoader Scenes(int count, int batch, bool shuffle = false) =>
        new(new DetectionSceneSet(TestGlyphs.Value, SceneSplit.Test, count), batch, shuffle, seed: 1,
            transform: new Normalize([DetectionSceneSet.Mean], [DetectionSceneSet.Std]));

    [Fact]
    public void Loss_OnTheDetectorsFloat32Output_IsFcosLossTermByTerm()
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(0);
        using var detector = DetectionModels.Create("det_scene_student");
        var batch = Scenes(4, 4).Epoch(0).First();
        var output = detector.Forward(batch.Images);
        Assert.Equal(DType.Float32, output.DType);

        var terms = DetectionTask.Default.ForModel(detector).Loss(output, batch.Targets);
        var expected = FcosLoss.Compute(output, (BoxBatch)batch.Targets, detector.Levels(96, 96));

        Assert.Equal([DetectionTask.FocalTerm, DetectionTask.BoxTerm, DetectionTask.CenternessTerm], terms.Terms.Select(t => t.Name));
        Assert.Equal(expected.Classification.Item<float>(), terms.Terms[0].Value.Item<float>());
        Assert.Equal(expected.Regression.Item<float>(), terms.Terms[1].Value.Item<float>());
        Assert.Equal(expected.Centerness.Item<float>(), terms.Terms[2].Value.Item<float>());
        Assert.True(expected.Positives > 0, "four scenes should give positive locations");
    }

    [Fact]
    public void Loss_BoundToNoDetector_OrOnMasks_SaysWhatItNeeds()
    {
        using var scope = DisposeScope.Enter();
        using var detector = DetectionModels.Create("det_scene_student");
        var batch = Scenes(2, 2).Epoch(0).First();
        var output = detector.Forward(batch.Images);

        var unbound = Assert.Throws<ArgumentException>(() => DetectionTask.Default.Loss(output, batch.Targets));
        Assert.Contains("bind it to the student with ForModel", unbound.Message, StringComparison.Ordinal);
        var masks = Assert.Throws<ArgumentException>(() => DetectionTask.Default.ForModel(detector).Loss(output, new MaskBatch(Tensor.Zeros([2, 96, 96], DType.Int64))));
        Assert.StartsWith("the detection task trains on boxes; this batch carries masks", masks.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrimarySum_CountsPerImageTheShareOfPositivesWhoseBestClassIsTheBoxs()
    {
        using var scope = DisposeScope.Enter();
        using var detector = DetectionModels.Create("det_scene_student");
        var task = (DetectionTask)DetectionTask.Default.ForModel(detector);
        var batch = Scenes(3, 3).Epoch(0).First();
        var boxes = (BoxBatch)batch.Targets;
        var assigned = FcosTargets.Assign(boxes, detector.Levels(96, 96));

        // An output whose class logits are the one-hot of the assigned labels everywhere: every positive is a hit.
        var l = assigned.Labels.Size(1);
        var classOf = (assigned.Labels.ClampMin(1) - 1L).To(DType.Int64);
        var oneHot = Functional.OneHot(classOf, 10).To(DType.Float32);
        var perfect = Tensor.Cat([oneHot, Tensor.Zeros([3, l, 5])], 2);
        Assert.Equal(3.0f, task.PrimarySum(perfect, boxes).Item<float>(), 5);

        // Shifting every class by one makes every positive a miss.
        var wrong = Tensor.Cat([Functional.OneHot((classOf + 1L) % 10L, 10).To(DType.Float32), Tensor.Zeros([3, l, 5])], 2);
        Assert.Equal(0.0f, task.PrimarySum(wrong, boxes).Item<float>());
    }

    [Fact]
    public void Evaluate_ReportsCocosTwelveNumbersAndAPerCategoryBreakdown_AndRestoresTrainingMode()
    {
        TorchRuntime.ManualSeed(0);
        using var detector = DetectionModels.Create("det_scene_student");
        detector.Train();

        var evaluation = DetectionTask.Default.Evaluate(detector, Scenes(8, 4), breakdown: true);

        Assert.True(detector.IsTraining);
        Assert.Equal(8, evaluation.Samples);
        Assert.Equal(DetectionTask.MetricKeys, evaluation.Metrics.Keys);
        Assert.Equal(DetectionTask.MeanAp, evaluation.PrimaryMetric);
        Assert.All(evaluation.Metrics.Values, v => Assert.InRange(v, -1, 1));
        Assert.Equal(10, evaluation.Breakdown.Count);
        Assert.StartsWith("mAP ", DetectionTask.Default.Describe(evaluation), StringComparison.Ordinal);
    }

    [Fact]
    public void DetectionTask_IsRegistered_AndOwnsTheDetectionModels()
    {
        Assert.IsType<DetectionTask>(TrainingTasks.Create("detection"));
        Assert.IsType<DetectionTask>(TrainingTasks.OwnerOf("det_scene_student"));
        Assert.IsType<DetectionTask>(TrainingTasks.OwnerOf("fcos_resnet50_fpn"));
        Assert.Equal("detection", Recipes.Parse("student:\n  model: det_scene_student\ntask: detection\n").Task);
    }

    [Fact]
    public void SceneStudent_TrainsThroughTheTrainer_TheFcosLossFalls()
    {
        TorchRuntime.ManualSeed(0);
        using var student = DetectionModels.Create("det_scene_student");
        IReadOnlyList<EpochResult> results;
        var options = new TrainerOptions { Epochs = 3, Optimizer = "sgd", LearningRate = 0.01, Momentum = 0.9, GradClip = 35 };
        using (var trainer = new Trainer(student, null, null, options, DetectionTask.Default))
        {
            results = trainer.Fit(Scenes(48, 8, shuffle: true), Scenes(8, 8));
        }

        Assert.All(results, r => Assert.Equal([DetectionTask.FocalTerm, DetectionTask.BoxTerm, DetectionTask.CenternessTerm], r.LossTerms.Keys));
        Assert.All(results, r => Assert.Equal(DetectionTask.MeanAp, r.PrimaryMetric));
        var first = results[0].LossTerms.Values.Sum();
        var last = results[^1].LossTerms.Values.Sum();
        Assert.True(last < 0.9 * first, $"the FCOS loss did not fall: {string.Join("; ", results)}");
    }
}

using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Tests.Dense;

/// <summary>
/// The dense methods through the unchanged trainer on a segmentation task: a tiny segmenter publishing "stage4" and
/// "logits" (its logit maps) as taps, a wider teacher; every term the goldens check appears in the epoch's losses, finite.
/// </summary>
public sealed class DenseTrainingTests
{
    public static TheoryData<string, string[], string[]> Methods => new()
    {
        { "cwd", ["student_tap=logits", "teacher_tap=logits"], ["ce", "cwd"] },
        { "cwd", ["student_tap=stage4", "teacher_tap=stage4", "align=conv_bn_relu", "tau=8", "weight=35"], ["ce", "cwd"] },
        { "mgd", ["student_tap=stage4", "teacher_tap=stage4", "mask=spatial", "mask_ratio=0.75", "alpha=2e-5"], ["ce", "mgd", "cwd_logits"] },
        { "kd", ["temperature=1", "ce_weight=1", "kd_weight=1"], ["ce", "kd"] },
        { "tfd+", ["stages=[stem,stage4]", "warmup=1"], ["ce", "tfd_intra", "tfd_inter", "kd"] },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void DenseMethod_TrainsASegmenterThroughTheTrainer_WithItsTermsFinite(string name, string[] options, string[] terms)
    {
        TorchRuntime.ManualSeed(0);
        using var student = new TinySegmenter(4);
        using var teacher = new TinySegmenter(8);
        teacher.Eval();
        var method = Parity.MethodCheck.Options(name, options);
        using var distiller = MethodBuilder.Create(method, MethodContext.FromModels(student, teacher, new ModelOptions(3, 3, 16)));
        var data = new SquareMasks(16);
        IReadOnlyList<EpochResult> results;
        using (var trainer = new Trainer(student, teacher, distiller, new TrainerOptions { Epochs = 1, LearningRate = 0.01 }, SegmentationTask.Default))
        {
            results = trainer.Fit(new DataLoader(data, 8, shuffle: true, seed: 1), new DataLoader(data, 16));
        }

        Assert.Equal(terms.Order(), results[0].LossTerms.Keys.Order());
        Assert.All(results[0].LossTerms.Values, v => Assert.True(double.IsFinite(v)));
    }

    /// <summary>A stride-2 conv-BN-ReLU stem ("stem"), a second conv stage ("stage4") and a 1x1 classifier ("logits"): logits at half size.</summary>
    private sealed class TinySegmenter : ClassificationModel
    {
        private readonly Sequential _stem;
        private readonly Sequential _stage;
        private readonly Conv2d _classifier;

        public TinySegmenter(int width)
        {
            _stem = RegisterModule("stem", new Sequential(new Conv2d(3, width, 3, stride: 2, padding: 1), new BatchNorm2d(width), new ReLU()));
            _stage = RegisterModule("layer4", new Sequential(new Conv2d(width, width, 3, padding: 1), new BatchNorm2d(width), new ReLU()));
            _classifier = RegisterModule("classifier", new Conv2d(width, 3, 1));
            AddTap("stem", "stem");
            AddTap("stage4", "layer4");
            AddTap("logits", "classifier");
        }

        protected override Tensor ForwardCore(Tensor input) => _classifier.Forward(_stage.Forward(_stem.Forward(input)));
    }
}

using Distill.Methods;
using Distill.Parity;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Capabilities are interfaces a method implements; the trainer and `distill check` branch on them alone.</summary>
public sealed class MethodCapabilityTests
{
    [Fact]
    public void EveryRegisteredMethod_ImplementsExactlyTheCapabilitiesItNeeds()
    {
        var context = MethodCheck.ExampleContext();
        var found = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var descriptor in MethodFactory.Descriptors)
        {
            using var scope = DisposeScope.Enter();
            // skd reads logit maps and a "context" map: a segmentation-shaped context.
            using var method = MethodCheck.Create(MethodCheck.Options(descriptor.Name, []), descriptor.Name == "skd" ? SkdMethodTests.SegmentationContext() : context);
            string[] capabilities =
            [
                .. method is IUsesClassifierHeads ? ["heads"] : Array.Empty<string>(),
                .. method is IUsesSampleIndices ? ["indices"] : Array.Empty<string>(),
                .. method is IReadsTeacherBatchNorm ? ["teacher-bn"] : Array.Empty<string>(),
                .. method is ICalibratedMethod ? ["calibration"] : Array.Empty<string>(),
                .. method is IHasOwnOptimizer ? ["own-optimizer"] : Array.Empty<string>(),
            ];
            if (capabilities.Length > 0)
            {
                found[descriptor.Name] = capabilities;
            }
        }

        Assert.Equal(new Dictionary<string, string[]>
        {
            ["sdd"] = ["heads"],
            ["crd"] = ["indices"],
            ["ofd"] = ["teacher-bn"],
            ["matching"] = ["teacher-bn", "calibration"],
            ["skd"] = ["own-optimizer"],
        }, found);
    }

    [Fact]
    public void Capabilities_CarryWhatTheCheckHarnessSizesItsInputsBy()
    {
        var context = MethodCheck.ExampleContext();
        using var sdd = (ScaleDecoupledDistillation)MethodCheck.Create(MethodCheck.Options("sdd", []), context);
        Assert.Equal(sdd.FeatureTap, ((IUsesClassifierHeads)sdd).HeadTap);
        using var crd = (ContrastiveRepresentationDistillation)MethodCheck.Create(MethodCheck.Options("crd", []), context);
        Assert.Equal(50000, crd.DatasetSize);
        using var ofd = (OverhaulFeatureDistillation)MethodCheck.Create(MethodCheck.Options("ofd", []), context);
        Assert.Equal(["stage1", "stage2", "stage3"], ofd.TeacherBatchNormStages);
    }
}

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
        // Each method on the example networks of the first task it applies to (segmentation-only ones on logit maps).
        var contexts = new Dictionary<string, MethodContext>(StringComparer.Ordinal);
        var found = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var descriptor in MethodFactory.Descriptors)
        {
            using var scope = DisposeScope.Enter();
            var task = descriptor.AppliesTo[0];
            var context = contexts.TryGetValue(task, out var known) ? known : contexts[task] = MethodCheck.ExampleContext(task);
            using var method = MethodCheck.Create(MethodCheck.Options(descriptor.Name, []), context);
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

using Distill.Engine;
using Distill.Methods;
using Distill.Parity;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Building and disposing any registered method frees every native tensor it made, leaving none to the finalizer.</summary>
public sealed class MethodLifetimeTests
{
    public static TheoryData<string> Methods => [.. MethodFactory.Descriptors.Select(d => d.Name)];

    [Theory]
    [MemberData(nameof(Methods))]
    public void CreateAndDispose_LeavesNoTensorBehind(string method)
    {
        // skd reads logit maps and a "context" map: a segmentation-shaped context.
        var context = method == "skd" ? SkdMethodTests.SegmentationContext() : MethodCheck.ExampleContext();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var live = TensorTracking.LiveCount;
        var finalized = TensorTracking.FinalizedCount;
        MethodFactory.Create(method, context: context).Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(live, TensorTracking.LiveCount);
        Assert.Equal(finalized, TensorTracking.FinalizedCount);
    }
}

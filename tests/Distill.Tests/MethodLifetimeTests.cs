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
        // Built on the first task the method applies to (segmentation-only methods on the scene networks' shapes).
        var context = MethodCheck.ExampleContext(MethodFactory.Find(method)!.AppliesTo[0]);
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

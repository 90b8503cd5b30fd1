using System.Diagnostics;
using Xunit;
using F = Distill.Torch.Functional;

namespace Distill.Torch.Tests;

public sealed class LifetimeTests
{
    [Fact]
    public void Scope_DisposesItsTensors_ButNotMovedOrDetachedOnes()
    {
        var baseline = TensorTracking.LiveCount;
        Tensor kept;
        Tensor detached;
        Tensor inner;
        using (var outer = DisposeScope.Enter())
        {
            using (var scope = DisposeScope.Enter())
            {
                _ = Tensor.Ones([3]) * 2;
                kept = Tensor.Ones([3]).MoveToOuterScope();
                detached = Tensor.Ones([3]).DetachFromScope();
                inner = Tensor.Ones([3]);
                Assert.Equal(3, scope.Count);
            }

            Assert.True(inner.IsDisposed);
            Assert.False(kept.IsDisposed);
            Assert.Same(outer, kept.Scope);
        }

        Assert.True(kept.IsDisposed);
        Assert.False(detached.IsDisposed);
        detached.Dispose();
        Assert.Equal(baseline, TensorTracking.LiveCount);
    }

    [Fact]
    public void Scope_DisposedOutOfOrder_Throws_AndDisposeIsIdempotent()
    {
        var outer = DisposeScope.Enter();
        var inner = DisposeScope.Enter();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        inner.Dispose();
        outer.Dispose();
        outer.Dispose();
        Assert.Null(DisposeScope.Current);
    }

    [Fact]
    public void TrainingLikeLoop_TenThousandSteps_LiveCountReturnsToBaseline_AndRssStaysBounded()
    {
        var baseline = TensorTracking.LiveCount;
        var w = Tensor.Randn([16, 8]).RequireGrad().DetachFromScope();
        var x = Tensor.Randn([4, 8]).DetachFromScope();
        var y = Tensor.From([0L, 1, 2, 3]).DetachFromScope();
        long rssAfterWarmup = 0;
        for (var step = 0; step < 10_000; step++)
        {
            using (DisposeScope.Enter())
            {
                var loss = F.CrossEntropy(F.Linear(x, w), y);
                loss.Backward();
                using (Autograd.NoGrad())
                {
                    var g = w.Grad!;
                    w.SubInPlace(g, 0.01);
                    g.ZeroInPlace();
                }
            }

            if (step == 1000)
            {
                rssAfterWarmup = CurrentRss();
            }
        }

        var growth = CurrentRss() - rssAfterWarmup;
        w.Grad = null;
        foreach (var t in new[] { w, x, y })
        {
            t.Dispose();
        }

        Assert.Equal(baseline, TensorTracking.LiveCount);
        Assert.True(growth < 32L * 1024 * 1024, $"RSS grew by {growth / 1024} KiB over 9,000 steps");
    }

    [Fact]
    public void UndisposedTensor_IsReleasedByFinalizer_AndReportedWithItsAllocationSite()
    {
        var tracking = TensorTracking.TrackAllocations;
        TensorTracking.TrackAllocations = true;
        TensorTracking.ClearLeakReports();
        var finalizedBefore = TensorTracking.FinalizedCount;
        try
        {
            AllocateAndDrop();
            for (var i = 0; i < 5 && TensorTracking.FinalizedCount == finalizedBefore; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.True(TensorTracking.FinalizedCount > finalizedBefore);
            Assert.Contains(TensorTracking.LeakReports, r => r.Contains(nameof(AllocateAndDrop), StringComparison.Ordinal));
        }
        finally
        {
            TensorTracking.TrackAllocations = tracking;
        }
    }

    [Fact]
    public void DisposedTensor_IsNotReportedAsLeak()
    {
        var tracking = TensorTracking.TrackAllocations;
        TensorTracking.TrackAllocations = true;
        TensorTracking.ClearLeakReports();
        try
        {
            AllocateAndDispose();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.DoesNotContain(TensorTracking.LeakReports, r => r.Contains(nameof(AllocateAndDispose), StringComparison.Ordinal));
        }
        finally
        {
            TensorTracking.TrackAllocations = tracking;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AllocateAndDispose() => Tensor.Ones([2]).Dispose();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AllocateAndDrop() => _ = Tensor.Ones([8]);

    private static long CurrentRss()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}

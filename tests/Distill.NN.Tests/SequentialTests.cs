using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>
/// Sequential hands each layer's output to the next and frees its own handle to it as soon as the next layer has run, as
/// PyTorch's reference counting does for `x = layer(x)`: a no-grad forward then holds one or two maps at a time instead
/// of every layer's until the container returns. What others hold stays valid.
/// </summary>
public sealed class SequentialTests
{
    [Fact]
    public void ALayersOutput_IsFreedOnceTheNextLayerHasRun_NotWhenTheContainerReturns()
    {
        var net = new Sequential(new ReLU(), new Sigmoid(), new Tanh());
        Tensor? firstOutput = null;
        bool? freedBeforeTheLastLayer = null;
        using var first = net[0].RegisterForwardHook((_, _, output) => firstOutput = (Tensor)output);
        using var last = net[2].RegisterForwardHook((_, _, _) => freedBeforeTheLastLayer = firstOutput!.IsDisposed);

        using var scope = DisposeScope.Enter();
        using var noGrad = Autograd.NoGrad();
        var x = Tensor.Full([2, 3], 0.5f);
        var y = net.Forward(x);

        Assert.True(freedBeforeTheLastLayer);
        Assert.False(x.IsDisposed); // the caller's input is the caller's
        Assert.Equal(Math.Tanh(1 / (1 + Math.Exp(-0.5))), y.Max().Item<float>(), 6);
    }

    [Fact]
    public void ALayerThatReturnsItsInput_KeepsItAlive_AndTapsKeepTheirOwnHandles()
    {
        var net = new Sequential(new ReLU(), new Identity(), new Sigmoid());
        using var taps = net.Tap("0", "1");

        using var scope = DisposeScope.Enter();
        var y = net.Forward(Tensor.Full([4], -1f));

        Assert.Equal(0.5f, y.Max().Item<float>());
        Assert.Equal(0f, taps["0"].Max().Item<float>());
        Assert.Equal(0f, taps["1"].Max().Item<float>());
    }
}

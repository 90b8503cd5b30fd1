using Distill.Models;
using Distill.NN;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>The zoo's initialisation follows each original: kaiming-normal fan-out for ResNets, N(0, sqrt(2/(k·k·out))) for WRN/VGG/MobileNetV2-half.</summary>
public sealed class ModelInitTests
{
    [Theory]
    [InlineData("resnet32x4", "layer3.0.conv2.weight", "kaiming")]
    [InlineData("wrn_40_2", "block3.layer.1.conv2.weight", "mdistiller")]
    [InlineData("vgg13", "block3.0.weight", "mdistiller")]
    public void ConvWeights_HaveTheOriginalsStandardDeviation(string model, string key, string rule)
    {
        using var scope = DisposeScope.Enter();
        TorchRuntime.ManualSeed(1);
        using var m = ModelRegistry.Create(model);
        var w = m.StateDict()[key];
        var shape = w.Shape;
        var fanOut = shape[0] * shape[2] * shape[3];
        var expected = rule == "kaiming" ? Math.Sqrt(2.0) / Math.Sqrt(fanOut) : Math.Sqrt(2.0 / fanOut);
        var std = w.Std().Item<float>();
        Assert.InRange(std, expected * 0.97, expected * 1.03);
        Assert.InRange(w.Mean().Item<float>(), -0.05 * expected, 0.05 * expected);
    }

    [Fact]
    public void Classifiers_AreInitialisedAsTheOriginals()
    {
        using var scope = DisposeScope.Enter();
        using var vgg = ModelRegistry.Create("vgg8");
        var state = vgg.StateDict();
        Assert.InRange(state["classifier.weight"].Std().Item<float>(), 0.0095, 0.0105);
        Assert.Equal(0f, state["classifier.bias"].Abs().Max().Item<float>());
        Assert.Equal(0f, state["block1.0.bias"].Abs().Max().Item<float>());
        using var wrn = ModelRegistry.Create("wrn_16_1");
        Assert.Equal(0f, wrn.StateDict()["fc.bias"].Abs().Max().Item<float>());
        Assert.All(vgg.NamedModules().Select(n => n.Module).OfType<BatchNorm2d>(), bn => Assert.Equal(1f, bn.Weight!.Min().Item<float>()));
    }
}

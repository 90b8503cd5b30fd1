using Distill.Models;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>Parameter counts for 3x32x32 inputs and 100 classes, as ../shared/spec/methods.md §2 lists them (torchvision's for ImageNet models).</summary>
public sealed class ModelParameterCountTests
{
    [Theory]
    [InlineData("resnet8", 83_892)]
    [InlineData("resnet14", 181_108)]
    [InlineData("resnet20", 278_324)]
    [InlineData("resnet32", 472_756)]
    [InlineData("resnet44", 667_188)]
    [InlineData("resnet56", 861_620)]
    [InlineData("resnet110", 1_736_564)]
    [InlineData("resnet8x4", 1_233_540)]
    [InlineData("resnet32x4", 7_433_860)]
    [InlineData("wrn_16_1", 180_916)]
    [InlineData("wrn_16_2", 703_284)]
    [InlineData("wrn_40_1", 569_780)]
    [InlineData("wrn_40_2", 2_255_156)]
    [InlineData("vgg8", 3_965_028)]
    [InlineData("vgg11", 9_277_284)]
    [InlineData("vgg13", 9_462_180)]
    [InlineData("mobilenetv2_half", 812_836)]
    [InlineData("resnet50_cifar", 23_705_252)]
    public void CifarModel_HasTheSpecsParameterCount(string name, long expected)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create(name);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Theory]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("resnet34", 21_797_672)]
    [InlineData("resnet50", 25_557_032)]
    [InlineData("mobilenetv2", 3_504_872)]
    [InlineData("mobilenetv1", 4_231_976)]
    public void ImageNetModel_HasTorchvisionsParameterCount(string name, long expected)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelRegistry.Create(name, new ModelOptions(NumClasses: 1000));
        Assert.Equal(expected, model.ParameterCount());
    }
}

namespace Distill.Models;

/// <summary>The zoo by name: each entry builds a model from <see cref="ModelOptions"/>.</summary>
public static class ModelRegistry
{
    private static readonly SortedDictionary<string, (string Description, Func<ModelOptions, ClassificationModel> Create)> Entries = new(StringComparer.Ordinal)
    {
        ["resnet8"] = ("CIFAR ResNet-8 (16-16-32-64)", o => ResNet.Cifar(8, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet14"] = ("CIFAR ResNet-14", o => ResNet.Cifar(14, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet20"] = ("CIFAR ResNet-20", o => ResNet.Cifar(20, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet32"] = ("CIFAR ResNet-32", o => ResNet.Cifar(32, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet44"] = ("CIFAR ResNet-44", o => ResNet.Cifar(44, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet56"] = ("CIFAR ResNet-56", o => ResNet.Cifar(56, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet110"] = ("CIFAR ResNet-110", o => ResNet.Cifar(110, [16, 16, 32, 64], o.NumClasses, o.InChannels)),
        ["resnet8x4"] = ("CIFAR ResNet-8x4 (32-64-128-256)", o => ResNet.Cifar(8, [32, 64, 128, 256], o.NumClasses, o.InChannels)),
        ["resnet32x4"] = ("CIFAR ResNet-32x4 (32-64-128-256)", o => ResNet.Cifar(32, [32, 64, 128, 256], o.NumClasses, o.InChannels)),
        ["resnet50_cifar"] = ("CIFAR ResNet-50 (resnetv2.py, bottleneck [3,4,6,3])", o => ResNet.CifarV2([3, 4, 6, 3], true, o.NumClasses, o.InChannels)),
        ["resnet18_cifar"] = ("CIFAR ResNet-18 (resnetv2.py, basic [2,2,2,2])", o => ResNet.CifarV2([2, 2, 2, 2], false, o.NumClasses, o.InChannels)),
        ["wrn_16_1"] = ("Wide ResNet 16-1", o => new WideResNet(16, 1, o.NumClasses, o.InChannels)),
        ["wrn_16_2"] = ("Wide ResNet 16-2", o => new WideResNet(16, 2, o.NumClasses, o.InChannels)),
        ["wrn_40_1"] = ("Wide ResNet 40-1", o => new WideResNet(40, 1, o.NumClasses, o.InChannels)),
        ["wrn_40_2"] = ("Wide ResNet 40-2", o => new WideResNet(40, 2, o.NumClasses, o.InChannels)),
        ["vgg8"] = ("VGG-8 with BN (CIFAR)", o => new Vgg(Vgg.Config("vgg8"), o.NumClasses, o.InChannels)),
        ["vgg11"] = ("VGG-11 with BN (CIFAR)", o => new Vgg(Vgg.Config("vgg11"), o.NumClasses, o.InChannels)),
        ["vgg13"] = ("VGG-13 with BN (CIFAR)", o => new Vgg(Vgg.Config("vgg13"), o.NumClasses, o.InChannels)),
        ["vgg16"] = ("VGG-16 with BN (CIFAR)", o => new Vgg(Vgg.Config("vgg16"), o.NumClasses, o.InChannels)),
        ["vgg19"] = ("VGG-19 with BN (CIFAR)", o => new Vgg(Vgg.Config("vgg19"), o.NumClasses, o.InChannels)),
        ["mobilenetv2_half"] = ("MobileNetV2 x0.5, expansion 6 (CIFAR mobile_half)", o => new MobileNetV2Cifar(6, 0.5, o.NumClasses, o.InChannels)),
        ["shufflenetv1"] = ("ShuffleNetV1 for CIFAR (240-480-960, groups 3)", o => new ShuffleNetV1(o.NumClasses, o.InChannels)),
        ["shufflenetv2"] = ("ShuffleNetV2 for CIFAR (net size 1: 116-232-464)", o => new ShuffleNetV2(o.NumClasses, o.InChannels)),
        ["mobilenetv1"] = ("MobileNetV1 (mdistiller ImageNet student)", o => new MobileNetV1(o.NumClasses, o.InChannels)),
        ["mobilenetv2"] = ("torchvision MobileNetV2 (ImageNet layout)", o => new MobileNetV2(o.NumClasses, o.InChannels)),
        ["vit_tiny"] = ("ViT, patch 4, dim 192, depth 8, 3 heads", o => new VisionTransformer(o)),
        ["vit_small"] = ("ViT, patch 4, dim 384, depth 8, 6 heads", o => new VisionTransformer(o, embedDim: 384, heads: 6)),
        ["resnet18"] = ("torchvision ResNet-18 (ImageNet layout)", o => ResNet.TorchVision([2, 2, 2, 2], false, o.NumClasses, o.InChannels)),
        ["resnet34"] = ("torchvision ResNet-34 (ImageNet layout)", o => ResNet.TorchVision([3, 4, 6, 3], false, o.NumClasses, o.InChannels)),
        ["resnet50"] = ("torchvision ResNet-50 (ImageNet layout)", o => ResNet.TorchVision([3, 4, 6, 3], true, o.NumClasses, o.InChannels)),
    };

    /// <summary>Every registered name with its description.</summary>
    public static IEnumerable<(string Name, string Description)> Names => Entries.Select(e => (e.Key, e.Value.Description));

    /// <summary>Builds the model called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such model; the message lists the registered names.</exception>
    /// <exception cref="ArgumentException">The model cannot take inputs of the options' size (ViT: height and width must be multiples of its patch); the message names the model and the size.</exception>
    public static ClassificationModel Create(string name, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Entries.TryGetValue(name, out var entry))
        {
            throw new KeyNotFoundException($"no model named '{name}'; models: {string.Join(", ", Entries.Keys)}");
        }

        options ??= new ModelOptions();
        try
        {
            return entry.Create(options);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{name} on {options.InputSize} inputs: {e.Message}", e);
        }
    }
}

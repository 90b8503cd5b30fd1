using Distill.Torch;

namespace Distill.NN.Tests;

/// <summary>The SmallNet of eng/golden/nn_modules.py: the same modules, names and forward.</summary>
internal sealed class SmallNet : Module<Tensor, Tensor>
{
    public SmallNet()
    {
        Features = RegisterModule("features", new Sequential(new Conv2d(1, 4, 3, padding: 1, bias: false), new BatchNorm2d(4), new ReLU()));
        Classifier = RegisterModule("classifier", new Linear(4 * 4 * 4, 10));
    }

    public Sequential Features { get; }

    public Linear Classifier { get; }

    protected override Tensor ForwardCore(Tensor input) =>
        Classifier.Forward(Functional.MaxPool2d(Features.Forward(input), (2, 2)).Flatten(1));
}

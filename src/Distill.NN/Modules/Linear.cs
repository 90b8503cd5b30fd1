using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>y = x W^T + b (torch.nn.Linear): weight [out, in], bias [out]; PyTorch's default init.</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer and initialises it as PyTorch does.</summary>
    public Linear(long inFeatures, long outFeatures, bool bias = true)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Empty([outFeatures, inFeatures]))!;
        Bias = RegisterParameter("bias", bias ? Tensor.Empty([outFeatures]) : null);
        Init.DefaultLinearLike(Weight, Bias);
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }

    /// <summary>Output features.</summary>
    public long OutFeatures { get; }

    /// <summary>The weight parameter.</summary>
    public Tensor Weight { get; }

    /// <summary>The bias parameter, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input) => F.Linear(input, Weight, Bias);

    /// <inheritdoc />
    protected override string ExtraRepresentation() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Bias is not null}";
}

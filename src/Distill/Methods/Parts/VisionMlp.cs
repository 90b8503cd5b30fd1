using Distill.NN;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>timm's Mlp: fc1 → exact GELU → fc2 (both with bias).</summary>
internal sealed class VisionMlp : Module<Tensor, Tensor>
{
    private readonly Linear _fc1;
    private readonly Linear _fc2;

    public VisionMlp(long dim, long hidden)
    {
        _fc1 = RegisterModule("fc1", new Linear(dim, hidden));
        _fc2 = RegisterModule("fc2", new Linear(hidden, dim));
    }

    protected override Tensor ForwardCore(Tensor input) => _fc2.Forward(F.Gelu(_fc1.Forward(input)));
}

using Distill.NN;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>The first (class) token of [B, L, E] tokens.</summary>
internal sealed class ClassToken : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Select(1, 0);
}


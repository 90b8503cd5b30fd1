using Distill.Torch;

namespace Distill.Torch.Tests.Golden;

/// <summary>A case's inputs as Distill tensors, by the names the golden script gave them.</summary>
public sealed class GoldenInputs
{
    private readonly Dictionary<string, Tensor> _tensors;

    public GoldenInputs(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    public Tensor this[string name] =>
        _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"the golden case has no input '{name}'");
}

using Distill.Torch;

namespace Distill.NN.Checkpoints;

/// <summary>The tensors (in file order) and string metadata of a safetensors file. Disposing frees the tensors.</summary>
/// <param name="Tensors">Tensors by name.</param>
/// <param name="Metadata">The header's __metadata__ entries.</param>
public sealed record SafeTensorsFile(OrderedDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) : IDisposable
{
    /// <summary>Frees every tensor.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values)
        {
            t.Dispose();
        }
    }
}

using System.Globalization;
using Distill.Torch;

namespace Distill.NN;

/// <summary>Runs its layers in order (torch.nn.Sequential); children are named "0", "1", ... as in PyTorch.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> _layers = [];

    /// <summary>Creates the container from layers in order.</summary>
    public Sequential(params IEnumerable<Module<Tensor, Tensor>> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
        {
            Add(layer);
        }
    }

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>The layer at <paramref name="index"/>.</summary>
    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <summary>Appends a layer under the next index.</summary>
    public void Add(Module<Tensor, Tensor> layer)
    {
        RegisterModule(_layers.Count.ToString(CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
    }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = input;
        var scope = DisposeScope.Current;
        foreach (var layer in _layers)
        {
            var next = layer.Forward(x);

            // Free the previous layer's output as soon as the next one has consumed it, as PyTorch's reference
            // counting does when `x = layer(x)` rebinds x: autograd keeps what it saved, hooks and taps hold their
            // own handles, so only this container's handle goes. Without it a no-grad forward keeps every
            // layer's map until the container returns.
            if (!ReferenceEquals(x, input) && !ReferenceEquals(x, next) && x.Scope == scope && scope is not null)
            {
                x.Dispose();
            }

            x = next;
        }

        return x;
    }
}

namespace Distill.NN;

/// <summary>A module with a typed forward pass; forward hooks run after every call.</summary>
/// <typeparam name="TIn">The input type (usually <see cref="Distill.Torch.Tensor"/>).</typeparam>
/// <typeparam name="TOut">The output type.</typeparam>
public abstract class Module<TIn, TOut> : Module
    where TIn : notnull
    where TOut : notnull
{
    /// <summary>Runs the module and then its forward hooks.</summary>
    public TOut Forward(TIn input)
    {
        var output = ForwardCore(input);
        RunForwardHooks(input, output);
        return output;
    }

    /// <summary>The computation; implemented by each layer.</summary>
    protected abstract TOut ForwardCore(TIn input);
}

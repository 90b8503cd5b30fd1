using Distill.Torch;

namespace Distill.NN;

/// <summary>
/// A module with a typed forward pass. Each call runs in its own dispose scope: temporaries the module
/// creates are released when it returns (their storage lives on wherever autograd saved it), so a
/// no-grad forward frees activations block by block as PyTorch's reference counting does. The output is
/// handed to the caller's scope; forward hooks run after the call.
/// </summary>
/// <typeparam name="TIn">The input type (usually <see cref="Tensor"/>).</typeparam>
/// <typeparam name="TOut">The output type.</typeparam>
public abstract class Module<TIn, TOut> : Module
    where TIn : notnull
    where TOut : notnull
{
    /// <summary>Runs the module and then its forward hooks.</summary>
    public TOut Forward(TIn input)
    {
        TOut output;
        using (var scope = DisposeScope.Enter())
        {
            output = ForwardCore(input);
            KeepOutput(output, scope);
        }

        RunForwardHooks(input, output);
        return output;
    }

    /// <summary>The computation; implemented by each layer.</summary>
    protected abstract TOut ForwardCore(TIn input);

    /// <summary>
    /// Moves the output's tensors out of the call's scope before it closes. Handles a tensor output and a
    /// collection of tensors (an array of maps); a module whose output holds its tensors otherwise overrides this.
    /// </summary>
    protected virtual void KeepOutput(TOut output, DisposeScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        switch (output)
        {
            case Tensor t when t.Scope == scope:
                t.MoveToOuterScope();
                break;
            case IEnumerable<Tensor> tensors:
                foreach (var t in tensors.Where(t => t.Scope == scope))
                {
                    t.MoveToOuterScope();
                }

                break;
        }
    }
}

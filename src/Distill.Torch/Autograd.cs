using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>Autograd entry points: gradients of outputs with respect to inputs, grad modes, gradient reversal.</summary>
public static unsafe class Autograd
{
    /// <summary>Whether operations are recorded on this thread now.</summary>
    public static bool IsGradEnabled
    {
        get
        {
            NativeStatus.Check(Native.dt_grad_enabled(out var enabled));
            return enabled != 0;
        }
    }

    /// <summary>Whether inference mode is active on this thread.</summary>
    public static bool IsInferenceMode
    {
        get
        {
            NativeStatus.Check(Native.dt_is_inference_mode(out var enabled));
            return enabled != 0;
        }
    }

    /// <summary>Disables recording on this thread until disposed (torch.no_grad).</summary>
    public static GradModeScope NoGrad() => new(false);

    /// <summary>Enables recording on this thread until disposed (torch.enable_grad).</summary>
    public static GradModeScope EnableGrad() => new(true);

    /// <summary>Enters inference mode until disposed (torch.inference_mode): no recording and no version counters.</summary>
    public static InferenceModeScope InferenceMode() => new();

    /// <summary>Accumulates gradients of <paramref name="tensors"/> into the leaves (torch.autograd.backward).</summary>
    /// <param name="tensors">The roots.</param>
    /// <param name="gradOutputs">One gradient per root, null entries for scalar roots; null for all-scalar roots.</param>
    /// <param name="retainGraph">Keep the graph for another backward.</param>
    /// <param name="createGraph">Record the backward pass itself, for higher-order gradients.</param>
    public static void Backward(ReadOnlySpan<Tensor> tensors, ReadOnlySpan<Tensor?> gradOutputs = default, bool retainGraph = false, bool createGraph = false)
    {
        if (!gradOutputs.IsEmpty && gradOutputs.Length != tensors.Length)
        {
            throw new ArgumentException($"{tensors.Length} tensors but {gradOutputs.Length} gradients", nameof(gradOutputs));
        }

        using var roots = new HandleList(tensors);
        using var grads = new HandleList(gradOutputs);
        NativeStatus.Check(Native.dt_backward(roots.Pointer, roots.Count, gradOutputs.IsEmpty ? null : grads.Pointer, retainGraph ? 1 : 0, createGraph ? 1 : 0));
    }

    /// <summary>
    /// Gradients of outputs with respect to inputs, without touching .Grad (torch.autograd.grad). With
    /// <paramref name="createGraph"/> the results are differentiable (gradient penalties).
    /// </summary>
    /// <returns>One gradient per input; null for an unused input when <paramref name="allowUnused"/> is set.</returns>
    public static Tensor?[] Grad(ReadOnlySpan<Tensor> outputs, ReadOnlySpan<Tensor> inputs, ReadOnlySpan<Tensor?> gradOutputs = default,
        bool retainGraph = false, bool createGraph = false, bool allowUnused = false)
    {
        if (!gradOutputs.IsEmpty && gradOutputs.Length != outputs.Length)
        {
            throw new ArgumentException($"{outputs.Length} outputs but {gradOutputs.Length} gradients", nameof(gradOutputs));
        }

        using var o = new HandleList(outputs);
        using var i = new HandleList(inputs);
        using var g = new HandleList(gradOutputs);
        var results = new IntPtr[inputs.Length];
        fixed (IntPtr* r = results)
        {
            NativeStatus.Check(Native.dt_autograd_grad(o.Pointer, o.Count, gradOutputs.IsEmpty ? null : g.Pointer, i.Pointer, i.Count,
                retainGraph || createGraph ? 1 : 0, createGraph ? 1 : 0, allowUnused ? 1 : 0, r));
        }

        var grads = new Tensor?[results.Length];
        for (var k = 0; k < results.Length; k++)
        {
            grads[k] = results[k] == IntPtr.Zero ? null : new Tensor(results[k]);
        }

        return grads;
    }

    /// <summary>
    /// Identity in the forward pass; multiplies the gradient by -<paramref name="scale"/> in the backward
    /// pass (gradient reversal, as CTKD's adversarial temperature uses).
    /// </summary>
    public static Tensor GradientReversal(Tensor input, double scale = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Tensor.Wrap(Native.dt_gradient_reversal(input.Handle, scale, out var r), r);
    }
}

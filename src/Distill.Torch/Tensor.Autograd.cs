using Distill.Torch.Interop;

namespace Distill.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor; settable on leaves (torch.Tensor.requires_grad).</summary>
    public bool RequiresGrad
    {
        get
        {
            NativeStatus.Check(Native.dt_tensor_info(Handle, out _, out _, out _, out _, out var requiresGrad));
            return requiresGrad != 0;
        }

        set => NativeStatus.Check(Native.dt_set_requires_grad(Handle, value ? 1 : 0));
    }

    /// <summary>True for tensors made by the user rather than by a recorded op.</summary>
    public bool IsLeaf
    {
        get
        {
            NativeStatus.Check(Native.dt_is_leaf(Handle, out var leaf));
            return leaf != 0;
        }
    }

    /// <summary>
    /// The accumulated gradient, or null (torch.Tensor.grad). Each read returns a new handle to the same
    /// gradient storage: dispose it (or read it inside a scope). Setting null clears it.
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            NativeStatus.Check(Native.dt_get_grad(Handle, out var grad));
            return grad == IntPtr.Zero ? null : new Tensor(grad);
        }

        set => NativeStatus.Check(Native.dt_set_grad(Handle, value?.Handle ?? TensorHandle.Null));
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for fluent construction.</summary>
    /// <returns>This tensor.</returns>
    public Tensor RequireGrad(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Keeps the gradient of a non-leaf tensor after backward (torch.Tensor.retain_grad).</summary>
    public void RetainGrad() => NativeStatus.Check(Native.dt_retain_grad(Handle));

    /// <summary>
    /// Computes gradients of this tensor with respect to the graph's leaves (torch.Tensor.backward).
    /// A non-scalar tensor needs <paramref name="gradient"/>.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false) =>
        Autograd.Backward([this], gradient is null ? default : new Tensor?[] { gradient }, retainGraph, createGraph);
}

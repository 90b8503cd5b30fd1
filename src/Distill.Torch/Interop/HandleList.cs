using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>
/// A native array of tensor handles for list arguments (cat, stack, backward). Each handle is AddRef'd
/// for the list's lifetime, so a concurrent Dispose cannot free a tensor under the call. Null entries
/// stand for absent tensors.
/// </summary>
internal unsafe ref struct HandleList
{
    private readonly TensorHandle?[] _handles;
    private readonly IntPtr* _pointer;
    private int _added;

    public HandleList(ReadOnlySpan<Tensor?> tensors)
    {
        _handles = new TensorHandle?[tensors.Length];
        _pointer = (IntPtr*)NativeMemory.Alloc((nuint)Math.Max(1, tensors.Length), (nuint)sizeof(IntPtr));
        try
        {
            for (var i = 0; i < tensors.Length; i++)
            {
                _pointer[i] = IntPtr.Zero;
                if (tensors[i] is not { } t)
                {
                    continue;
                }

                var handle = t.Handle;
                var added = false;
                handle.DangerousAddRef(ref added);
                _handles[i] = handle;
                _added = i + 1;
                _pointer[i] = handle.DangerousGetHandle();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public readonly IntPtr* Pointer => _pointer;

    public readonly int Count => _handles.Length;

    public void Dispose()
    {
        for (var i = 0; i < _added; i++)
        {
            _handles[i]?.DangerousRelease();
        }

        _added = 0;
        NativeMemory.Free(_pointer);
    }
}

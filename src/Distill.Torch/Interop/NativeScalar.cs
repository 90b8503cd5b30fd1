using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>A Python-like scalar: the kind decides type promotion (an int scalar keeps an Int64 tensor integral).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct NativeScalar
{
    private const int FloatKind = 0;
    private const int IntKind = 1;
    private const int BoolKind = 2;

    private readonly double _f;
    private readonly long _i;
    private readonly int _kind;
    private readonly int _padding;

    private NativeScalar(double f, long i, int kind)
    {
        _f = f;
        _i = i;
        _kind = kind;
        _padding = 0;
    }

    public static NativeScalar Float(double value) => new(value, 0, FloatKind);

    public static NativeScalar Int(long value) => new(0, value, IntKind);

    public static NativeScalar Bool(bool value) => new(0, value ? 1 : 0, BoolKind);
}

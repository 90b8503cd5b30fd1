namespace Distill.Torch;

/// <summary>Facts about <see cref="DType"/> values and their .NET element types.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType type) => type switch
    {
        DType.Float64 or DType.Int64 => 8,
        DType.Float32 or DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 or DType.Int16 => 2,
        DType.UInt8 or DType.Bool or DType.Int8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown dtype"),
    };

    /// <summary>True for Float32, Float64, Float16 and BFloat16.</summary>
    public static bool IsFloatingPoint(this DType type) =>
        type is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    /// <summary>The dtype whose elements a .NET type <typeparamref name="T"/> holds, as torch.tensor would infer it.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no tensor dtype.</exception>
    public static DType Of<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        if (typeof(T) == typeof(short)) return DType.Int16;
        throw new NotSupportedException($"{typeof(T).Name} has no tensor dtype; use float, double, Half, long, int, short, sbyte, byte or bool.");
    }
}

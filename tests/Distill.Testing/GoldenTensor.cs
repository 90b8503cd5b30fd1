using System.Globalization;
using System.Text.Json;
using Distill.Torch;
using Xunit.Sdk;

namespace Distill.Testing;

/// <summary>A tensor recorded by eng/golden/torch_ops.py: dtype name, shape and flat values.</summary>
public sealed class GoldenTensor
{
    /// <summary>
    /// Per-element relative tolerance of one float32 op: torch.testing.assert_close's float32 default (see
    /// <see cref="GoldenTolerance"/> for the rule, for float64 and for deeper computations).
    /// </summary>
    public const double Rtol = 1.3e-6;

    /// <summary>Absolute tolerance of one float32 op: torch.testing.assert_close's float32 default.</summary>
    public const double Atol = 1e-5;

    /// <summary>
    /// <see cref="AssertMatchesToScale"/>'s default: a float32 result against a float64 reference, to 1e-5 of the
    /// tensor's largest magnitude (168 u, u = 2^-24: lambda u sqrt(n) for one reduction of ~800 terms at <see cref="GoldenTolerance.Lambda"/>
    /// = 6, since the float64 reference is exact to float32's eyes and only our own rounding counts).
    /// </summary>
    public const double ScaleRtol = 1e-5;

    public GoldenTensor(string dtype, long[] shape, double[] values)
    {
        DTypeName = dtype;
        Shape = shape;
        Values = values;
    }

    public string DTypeName { get; }

    public long[] Shape { get; }

    public double[] Values { get; }

    public DType DType => DTypeName switch
    {
        "float32" => DType.Float32,
        "float64" => DType.Float64,
        "int64" => DType.Int64,
        "int32" => DType.Int32,
        "uint8" => DType.UInt8,
        "bool" => DType.Bool,
        _ => throw new InvalidDataException($"golden dtype {DTypeName} is not handled"),
    };

    public static GoldenTensor Parse(JsonElement e)
    {
        var dtype = e.GetProperty("dtype").GetString()!;
        var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var values = e.GetProperty("data").EnumerateArray().Select(ParseValue).ToArray();
        return new GoldenTensor(dtype, shape, values);
    }

    /// <summary>A new tensor holding these values, in the recorded dtype.</summary>
    public Tensor ToTensor() => Shape.Length == 0 ? ToTensorCore().Reshape([]) : ToTensorCore();

    private Tensor ToTensorCore() => DType switch
    {
        DType.Float32 => Tensor.From(Values.Select(v => (float)v).ToArray(), Shape),
        DType.Float64 => Tensor.From(Values, Shape),
        DType.Int64 => Tensor.From(Values.Select(v => (long)v).ToArray(), Shape),
        DType.Int32 => Tensor.From(Values.Select(v => (int)v).ToArray(), Shape),
        DType.UInt8 => Tensor.From(Values.Select(v => (byte)v).ToArray(), Shape),
        DType.Bool => Tensor.From(Values.Select(v => v != 0).ToArray(), Shape),
        _ => throw new InvalidDataException(DTypeName),
    };

    /// <summary>Fails naming the first element outside the dtype's one-op tolerance (<see cref="GoldenTolerance.For"/>).</summary>
    public void AssertMatches(Tensor actual, string what) => AssertMatches(actual, what, GoldenTolerance.For(DType));

    /// <summary>
    /// Fails naming the first element outside <paramref name="tolerance"/> (its index, both values, the difference,
    /// the allowed difference and why), how many elements are outside and the largest difference.
    /// </summary>
    public void AssertMatches(Tensor actual, string what, GoldenTolerance tolerance)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(tolerance);
        if (actual.DType != DType)
        {
            throw new XunitException($"{what}: dtype {actual.DType}, PyTorch gives {DType}");
        }

        AssertShape(actual, what);
        if (!DType.IsFloatingPoint())
        {
            tolerance = GoldenTolerance.Exact;
        }

        var got = ReadAsDoubles(actual);
        var rms = GoldenTolerance.Rms(Values);
        var firstBad = -1;
        var bad = 0;
        var worst = 0.0;
        for (var i = 0; i < got.Length; i++)
        {
            if (!tolerance.Accepts(got[i], Values[i], rms))
            {
                bad++;
                if (firstBad < 0)
                {
                    firstBad = i;
                }

                worst = Math.Max(worst, Math.Abs(got[i] - Values[i]));
            }
        }

        if (firstBad >= 0)
        {
            throw new XunitException(
                $"{what}: element {firstBad}{Index(firstBad)} is {R(got[firstBad])}, PyTorch gives {R(Values[firstBad])}: " +
                $"difference {Math.Abs(got[firstBad] - Values[firstBad]):G3} > allowed {tolerance.Allowed(Values[firstBad], rms):G3} = {tolerance.Describe(rms)}; " +
                $"{bad} of {got.Length} elements outside, largest difference {worst:G3}");
        }
    }

    /// <summary>
    /// For results computed in float32 against a float64 reference: every element within
    /// <paramref name="rtol"/> of the tensor's largest magnitude (sums and gradients whose small elements
    /// carry the rounding of the large ones), or within 1e-5 where the reference is all zero.
    /// Fails with the first differing element, both values and the tolerance.
    /// </summary>
    public void AssertMatchesToScale(Tensor actual, string what, double rtol = ScaleRtol)
    {
        ArgumentNullException.ThrowIfNull(actual);
        AssertShape(actual, what);
        var got = ReadAsDoubles(actual);
        // A mathematically zero gradient (a bias before BN, a shift-invariant softmax) keeps float32 rounding
        // noise of the terms that cancel: torch's float32 absolute tolerance there.
        var largest = Values.Select(Math.Abs).DefaultIfEmpty(0).Max();
        var tolerance = largest < 1e-10 ? Atol : rtol * largest;
        for (var i = 0; i < got.Length; i++)
        {
            if (!(Math.Abs(got[i] - Values[i]) <= tolerance))
            {
                throw new XunitException(
                    $"{what}: element {i}{Index(i)} is {R(got[i])}, PyTorch gives {R(Values[i])}: difference {Math.Abs(got[i] - Values[i]):G3} > " +
                    $"tolerance {tolerance:G3} ({rtol} x the largest |expected| {largest:G4}, the scale of the rounding every element carries; {Atol} for an all-zero reference)");
            }
        }
    }

    /// <summary>One float32 op's rule, <see cref="Atol"/> + <see cref="Rtol"/> |expected| (exact when not <paramref name="floating"/>).</summary>
    public static bool Close(double actual, double expected, bool floating) =>
        floating ? GoldenTolerance.Float32.Accepts(actual, expected, 0) : actual == expected;

    private void AssertShape(Tensor actual, string what)
    {
        if (!actual.Shape.SequenceEqual(Shape))
        {
            throw new XunitException($"{what}: shape [{string.Join(", ", actual.Shape)}], PyTorch gives [{string.Join(", ", Shape)}]");
        }
    }

    private string Index(int flat)
    {
        if (Shape.Length < 2)
        {
            return "";
        }

        var index = new long[Shape.Length];
        long rest = flat;
        for (var d = Shape.Length - 1; d >= 0; d--)
        {
            index[d] = rest % Shape[d];
            rest /= Shape[d];
        }

        return $" [{string.Join(", ", index)}]";
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static double[] ReadAsDoubles(Tensor t) => t.DType switch
    {
        DType.Float32 => t.ToArray<float>().Select(v => (double)v).ToArray(),
        DType.Float64 => t.ToArray<double>(),
        DType.Int64 => t.ToArray<long>().Select(v => (double)v).ToArray(),
        DType.Int32 => t.ToArray<int>().Select(v => (double)v).ToArray(),
        DType.UInt8 => t.ToArray<byte>().Select(v => (double)v).ToArray(),
        DType.Bool => t.ToArray<bool>().Select(v => v ? 1.0 : 0.0).ToArray(),
        _ => throw new InvalidDataException(t.DType.ToString()),
    };

    private static double ParseValue(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.String => v.GetString() switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            var s => throw new InvalidDataException($"unexpected golden value '{s}'"),
        },
        _ => throw new InvalidDataException($"unexpected golden value kind {v.ValueKind}"),
    };
}

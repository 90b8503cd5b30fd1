using System.Globalization;
using System.Text.Json;
using Distill.Torch;
using Xunit.Sdk;

namespace Distill.Testing;

/// <summary>A tensor recorded by eng/golden/torch_ops.py: dtype name, shape and flat values.</summary>
public sealed class GoldenTensor
{
    /// <summary>Float tolerance: |actual - expected| &lt;= Atol + Rtol |expected| (DEVELOPERS.md: 1e-5 relative).</summary>
    public const double Rtol = 1e-5;

    public const double Atol = 1e-6;

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

    /// <summary>Fails with the first differing element (index, both values) and the largest error.</summary>
    public void AssertMatches(Tensor actual, string what)
    {
        if (actual.DType != DType)
        {
            throw new XunitException($"{what}: dtype {actual.DType}, PyTorch gives {DType}");
        }

        if (!actual.Shape.SequenceEqual(Shape))
        {
            throw new XunitException($"{what}: shape [{string.Join(", ", actual.Shape)}], PyTorch gives [{string.Join(", ", Shape)}]");
        }

        var got = ReadAsDoubles(actual);
        var firstBad = -1;
        var worst = 0.0;
        for (var i = 0; i < got.Length; i++)
        {
            if (!Close(got[i], Values[i], DType.IsFloatingPoint()))
            {
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
                $"{what}: element {firstBad} is {got[firstBad].ToString("R", CultureInfo.InvariantCulture)}, PyTorch gives " +
                $"{Values[firstBad].ToString("R", CultureInfo.InvariantCulture)} (largest error {worst:G3}; tolerance {Atol} + {Rtol}|expected|)");
        }
    }

    /// <summary>
    /// For results computed in float32 against a float64 reference: every element within
    /// <paramref name="rtol"/> of the tensor's largest magnitude (sums and gradients whose small elements
    /// carry the rounding of the large ones). Fails with the first differing element.
    /// </summary>
    public void AssertMatchesToScale(Tensor actual, string what, double rtol = Rtol)
    {
        if (!actual.Shape.SequenceEqual(Shape))
        {
            throw new XunitException($"{what}: shape [{string.Join(", ", actual.Shape)}], PyTorch gives [{string.Join(", ", Shape)}]");
        }

        var got = ReadAsDoubles(actual);
        // A mathematically zero gradient (a bias before BN, a shift-invariant softmax) keeps float32 rounding
        // noise of the terms that cancel: an absolute 1e-5 there.
        var largest = Values.Select(Math.Abs).DefaultIfEmpty(0).Max();
        var tolerance = largest < 1e-10 ? 1e-5 : rtol * largest;
        for (var i = 0; i < got.Length; i++)
        {
            if (!(Math.Abs(got[i] - Values[i]) <= tolerance))
            {
                throw new XunitException(
                    $"{what}: element {i} is {got[i].ToString("R", CultureInfo.InvariantCulture)}, PyTorch gives " +
                    $"{Values[i].ToString("R", CultureInfo.InvariantCulture)} (tolerance {tolerance:G3}: {rtol} x the largest |expected|, or 1e-5 for a zero reference)");
            }
        }
    }

    public static bool Close(double actual, double expected, bool floating)
    {
        if (!floating)
        {
            return actual == expected;
        }

        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            return double.IsNaN(expected) && double.IsNaN(actual);
        }

        if (double.IsInfinity(expected) || double.IsInfinity(actual))
        {
            return expected == actual;
        }

        return Math.Abs(actual - expected) <= Atol + (Rtol * Math.Abs(expected));
    }

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

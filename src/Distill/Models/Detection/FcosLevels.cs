using Distill.Torch;

namespace Distill.Models.Detection;

/// <summary>
/// The pyramid levels an FCOS network predicts on for one input size: each level's name ("p3"), stride, map size and
/// scale range (the interval, both ends inclusive, that max(l, t, r, b) of a location's target must lie in). The
/// network's output [B, L, K + 5] lists the locations level by level, lowest stride first, row-major within a level;
/// location (i, j) of a level with stride s is the image point (j * s + s / 2, i * s + s / 2) (integer halving).
/// </summary>
public sealed class FcosLevels
{
    /// <summary>Creates the description; every list has one entry per level.</summary>
    /// <exception cref="ArgumentException">Lists of different lengths, no level, a stride below 1 or an empty map.</exception>
    public FcosLevels(IReadOnlyList<string> names, IReadOnlyList<int> strides, IReadOnlyList<(int Height, int Width)> sizes, IReadOnlyList<(double Min, double Max)> scaleRanges)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(strides);
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(scaleRanges);
        if (names.Count == 0 || strides.Count != names.Count || sizes.Count != names.Count || scaleRanges.Count != names.Count)
        {
            throw new ArgumentException($"FCOS levels need one name, stride, size and scale range per level (got {names.Count}, {strides.Count}, {sizes.Count}, {scaleRanges.Count})");
        }

        if (strides.Any(s => s < 1) || sizes.Any(s => s.Height < 1 || s.Width < 1))
        {
            throw new ArgumentException($"FCOS levels need strides of at least 1 and non-empty maps (strides [{string.Join(", ", strides)}], sizes [{string.Join(", ", sizes)}])");
        }

        Names = [.. names];
        Strides = [.. strides];
        Sizes = [.. sizes];
        ScaleRanges = [.. scaleRanges];
        var offsets = new long[names.Count];
        var total = 0L;
        for (var i = 0; i < names.Count; i++)
        {
            offsets[i] = total;
            total += (long)sizes[i].Height * sizes[i].Width;
        }

        Offsets = offsets;
        Count = total;
    }

    /// <summary>The levels' names ("p2", "p3", ...).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The levels' strides.</summary>
    public IReadOnlyList<int> Strides { get; }

    /// <summary>The levels' map sizes.</summary>
    public IReadOnlyList<(int Height, int Width)> Sizes { get; }

    /// <summary>The levels' scale ranges on max(l, t, r, b) in pixels, both ends inclusive.</summary>
    public IReadOnlyList<(double Min, double Max)> ScaleRanges { get; }

    /// <summary>Where each level's locations start in the output's L dimension.</summary>
    public IReadOnlyList<long> Offsets { get; }

    /// <summary>All locations of all levels (the output's L).</summary>
    public long Count { get; }

    /// <summary>
    /// The levels of an input of <paramref name="height"/> x <paramref name="width"/> for a network whose every
    /// stride-2 step maps n to ceil(n / 2) (3x3 convs with padding 1, torchvision's stem and max pool).
    /// </summary>
    /// <exception cref="ArgumentException">A stride that is not a power of two, or lists of different lengths.</exception>
    public static FcosLevels ForInput(int height, int width, IReadOnlyList<string> names, IReadOnlyList<int> strides, IReadOnlyList<(double Min, double Max)> scaleRanges)
    {
        ArgumentNullException.ThrowIfNull(strides);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var sizes = new (int, int)[strides.Count];
        for (var i = 0; i < strides.Count; i++)
        {
            if (strides[i] < 1 || (strides[i] & (strides[i] - 1)) != 0)
            {
                throw new ArgumentException($"FCOS level strides must be powers of two, got {strides[i]}", nameof(strides));
            }

            var (h, w) = (height, width);
            for (var s = strides[i]; s > 1; s /= 2)
            {
                (h, w) = ((h + 1) / 2, (w + 1) / 2);
            }

            sizes[i] = (h, w);
        }

        return new FcosLevels(names, strides, sizes, scaleRanges);
    }

    /// <summary>The locations' image points [L, 2] (x, y), level by level, row-major.</summary>
    public Tensor Locations(DType dtype = DType.Float32, Device? device = null)
    {
        var data = new double[Count * 2];
        var k = 0;
        for (var level = 0; level < Strides.Count; level++)
        {
            var s = Strides[level];
            for (var i = 0; i < Sizes[level].Height; i++)
            {
                for (var j = 0; j < Sizes[level].Width; j++)
                {
                    data[k++] = ((long)j * s) + (s / 2);
                    data[k++] = ((long)i * s) + (s / 2);
                }
            }
        }

        return Tensor.From(data, Count, 2).To(dtype, device ?? Device.Cpu);
    }

    /// <summary>Each location's level stride [L].</summary>
    public Tensor LocationStrides(DType dtype = DType.Float32, Device? device = null) => PerLocation(l => Strides[l], dtype, device);

    /// <summary>Each location's scale range [L, 2] (min, max).</summary>
    public Tensor LocationScaleRanges(DType dtype = DType.Float32, Device? device = null)
    {
        var lo = PerLocation(l => ScaleRanges[l].Min, dtype, device);
        var hi = PerLocation(l => ScaleRanges[l].Max, dtype, device);
        return Tensor.Stack([lo, hi], 1);
    }

    /// <summary>Each location's level index [L] (Int64).</summary>
    public Tensor LocationLevels(Device? device = null) => PerLocation(l => l, DType.Int64, device);

    private Tensor PerLocation(Func<int, double> value, DType dtype, Device? device)
    {
        var data = new double[Count];
        for (var level = 0; level < Strides.Count; level++)
        {
            var n = (long)Sizes[level].Height * Sizes[level].Width;
            Array.Fill(data, value(level), (int)Offsets[level], (int)n);
        }

        return Tensor.From(data, Count).To(dtype, device ?? Device.Cpu);
    }
}

using System.Globalization;
using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// Recorded tap outputs by tap name (a published tap or a module path); dispose to remove the hooks.
/// A map read here is checked against the shape the model's dry run recorded for it, so a method built for
/// other sizes fails with the tap and both shapes named instead of deep inside. What is compared depends on
/// the input of the forward that recorded the map:
/// <list type="bullet">
/// <item>An input of the dry run's height and width (any batch): every dimension but the batch.</item>
/// <item>An input of another height and width, when the model says its input size varies
/// (<see cref="TappedModel{TOutput}.InputSizeVaries"/>, dense tasks): the rank and every dimension but the batch
/// and the spatial ones, i.e. the channels of a [B, C, H, W] map, the whole of a [B, D] vector and of a
/// [B, L, E] token sequence (a method builds projectors for a sequence's length). The map's H x W is left free:
/// it follows the input, and methods that pair maps compare or resize the student's against the teacher's
/// themselves. Re-deriving the exact H x W per input size was rejected: it costs a forward of the model per
/// new size (nearly every batch for detection), cannot run while the taps hold a batch's maps, and would
/// compare the model with itself.</item>
/// <item>An input of another height and width to any other model (classifiers see one image size): every
/// dimension but the batch, so the error says the images differ from the size the models were dry-run on.</item>
/// </list>
/// </summary>
public sealed class ModelTaps : IFeatureMaps, IDisposable
{
    private readonly FeatureTaps _taps;
    private readonly IDisposable _inputHook;
    private readonly InputRecorder _input;
    private readonly Dictionary<string, string> _paths;
    private readonly Dictionary<string, long[]> _expected;
    private readonly DryRunInfo _dryRun;

    internal ModelTaps(FeatureTaps taps, IDisposable inputHook, InputRecorder input, Dictionary<string, string> paths, Dictionary<string, long[]> expected, DryRunInfo dryRun)
    {
        _taps = taps;
        _inputHook = inputHook;
        _input = input;
        _paths = paths;
        _expected = expected;
        _dryRun = dryRun;
    }

    /// <summary>The tapped names.</summary>
    public IEnumerable<string> Names => _paths.Keys;

    /// <summary>
    /// The dtype maps are read in (null: as recorded). A bfloat16 teacher's maps are read as float32, so the losses
    /// see the dtype of the student's; the cast is a new tensor of the reading scope.
    /// </summary>
    internal DType? ReadAs { get; set; }

    /// <summary>
    /// Whether maps are read in the contiguous (NCHW) layout: a teacher fed channels-last images records channels-last
    /// maps, which the methods get as any other map (a copy of the reading scope when the layout differs).
    /// </summary>
    internal bool ReadContiguous { get; set; }

    /// <summary>The latest output of the tap <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The name is not tapped.</exception>
    /// <exception cref="InvalidOperationException">The map's shape differs from the dry run's in a dimension the input's size does not explain (see the class summary).</exception>
    public Tensor this[string name]
    {
        get
        {
            if (!_paths.TryGetValue(name, out var path))
            {
                throw new KeyNotFoundException($"'{name}' is not tapped (tapped: {string.Join(", ", _paths.Keys)})");
            }

            var tensor = _taps[path];
            if (_expected.TryGetValue(path, out var expected))
            {
                Check(name, path, tensor.Shape, expected);
            }

            var read = ReadAs is { } dtype && tensor.DType != dtype ? tensor.To(dtype) : tensor;
            return ReadContiguous ? read.Contiguous() : read;
        }
    }

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        _inputHook.Dispose();
        _taps.Dispose();
    }

    private void Check(string name, string path, long[] shape, long[] expected)
    {
        var input = _input.Shape;
        var otherSize = input is { Length: >= 2 } && _dryRun.Input.Length == 3
            && (input[^2] != _dryRun.Input[1] || input[^1] != _dryRun.Input[2]);
        var free = otherSize && _dryRun.InputSizeVaries ? SpatialDims(expected.Length) : [];
        var fits = shape.Length == expected.Length
            && Enumerable.Range(1, shape.Length - 1).All(d => free.Contains(d) || shape[d] == expected[d]);
        if (fits)
        {
            return;
        }

        var where = path == name ? $"tap '{name}'" : $"tap '{name}' (module {path})";
        var built = string.Join(", ", expected.Select((size, d) =>
            d == 0 ? "B" : !free.Contains(d) ? size.ToString(CultureInfo.InvariantCulture) : expected.Length == 3 ? "L" : d == 2 ? "H" : "W"));
        var from = input is null ? string.Empty : $" from an input {Tensor.FormatShape(input)}";
        var hint = !otherSize ? "the images must have the size the models were dry-run on"
            : _dryRun.InputSizeVaries ? "the input's height and width may vary, the other dimensions may not"
            : $"the model's input must have the height and width it was dry-run on ({_dryRun.Model} does not take inputs of varying size)";
        throw new InvalidOperationException(
            $"{where} arrived as {Tensor.FormatShape(shape)}{from} but the method was built for [{built}] ({_dryRun.Model}'s dry run on {string.Join("x", _dryRun.Input)}): {hint}");
    }

    // The dimensions that follow the input's height and width: H and W of a [B, C, H, W] map, L of a [B, L, E] sequence.
    private static int[] SpatialDims(int rank) => rank switch
    {
        4 => [2, 3],
        3 => [1],
        _ => [],
    };

    /// <summary>The shape of the latest input the model's forward saw (a forward hook on the model itself).</summary>
    internal sealed class InputRecorder
    {
        /// <summary>The latest input's shape, or null before any forward.</summary>
        public long[]? Shape { get; private set; }

        /// <summary>Records <paramref name="input"/>'s shape when it is a tensor.</summary>
        public void Record(object input)
        {
            if (input is Tensor t)
            {
                Shape = t.Shape;
            }
        }
    }

    /// <summary>What the checks compare against: the model's type name, the dry run's input (channels, height, width; empty before one) and whether its input size varies.</summary>
    internal sealed record DryRunInfo(string Model, long[] Input, bool InputSizeVaries);
}

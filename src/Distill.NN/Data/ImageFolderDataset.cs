using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// A class-per-folder image tree (torchvision.datasets.ImageFolder): root/class/image.png. Classes are the
/// folder names in ordinal order, samples the image files of each class in ordinal order. Images are
/// decoded by OpenCV on whichever thread asks (the loader's workers) and come out as RGB (or grey) floats.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    /// <summary>The file extensions read by default (torchvision's IMG_EXTENSIONS that OpenCV decodes).</summary>
    public static readonly IReadOnlyList<string> DefaultExtensions = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"];

    private readonly (string Path, int Label)[] _samples;
    private readonly int _channels;

    /// <summary>Indexes the tree (no image is decoded yet).</summary>
    /// <exception cref="DataFormatException">The root is missing, has no class folders, or a class has no images.</exception>
    public ImageFolderDataset(string root, int channels = 3, IEnumerable<string>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey) or 3 (RGB)");
        }

        if (!Directory.Exists(root))
        {
            throw new DataFormatException($"{root}: no such folder");
        }

        var allowed = new HashSet<string>(extensions ?? DefaultExtensions, StringComparer.OrdinalIgnoreCase);
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
        {
            throw new DataFormatException($"{root}: no class folders (expected root/<class>/<image>)");
        }

        var samples = new List<(string, int)>();
        for (var label = 0; label < classes.Length; label++)
        {
            var files = Directory.GetFiles(Path.Combine(root, classes[label]), "*", SearchOption.AllDirectories)
                .Where(f => allowed.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (files.Length == 0)
            {
                throw new DataFormatException($"{Path.Combine(root, classes[label])}: class '{classes[label]}' has no image files ({string.Join(", ", allowed)})");
            }

            samples.AddRange(files.Select(f => (f, label)));
        }

        _samples = samples.ToArray();
        _channels = channels;
        Classes = classes;
    }

    /// <inheritdoc />
    public int Count => _samples.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The file behind each sample.</summary>
    public string PathOf(int index) => _samples[index].Path;

    /// <inheritdoc />
    public int LabelOf(int index) => _samples[index].Label;

    /// <inheritdoc />
    public Sample Get(int index)
    {
        var (path, label) = _samples[index];
        return new Sample(ReadImage(path, _channels), label, index);
    }

    /// <summary>Decodes an image file with OpenCV to a float image of 1 (grey) or 3 (RGB) channels; errors name the file.</summary>
    internal static Image ReadImage(string path, int channels)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot be read: {e.Message}", e);
        }

        try
        {
            using var decoded = ImageCodec.Decode(bytes, channels).DetachFromScope();
            var shape = decoded.Shape;
            return Image.FromBytes(decoded.ToArray<byte>(), (int)shape[2], (int)shape[0], (int)shape[1], interleaved: true);
        }
        catch (TorchException e)
        {
            throw new DataFormatException($"{path}: {e.Message}", e);
        }
    }
}

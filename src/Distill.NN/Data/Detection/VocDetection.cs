using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Distill.NN.Data.Detection;

/// <summary>
/// A Pascal VOC year folder (VOCdevkit/VOC2007 or VOC2012: Annotations/&lt;id&gt;.xml, JPEGImages/&lt;id&gt;.jpg and
/// ImageSets/Main/&lt;split&gt;.txt) read for detection, labelled with <see cref="Boxes"/> over the 20 VOC classes in their
/// fixed order. VOC's boxes are 1-based and inclusive: (xmin, ymin, xmax, ymax) becomes (xmin - 1, ymin - 1, xmax, ymax)
/// in continuous coordinates; difficult objects are crowd (ignore regions); the area is w x h. A box reaching outside its
/// image is clipped to it; xmax &lt; xmin or ymax &lt; ymin, or a box with nothing inside its image, is refused. Every file
/// of the split is read and checked when the set is made; each error names the file and the object and is thrown as a
/// <see cref="DataFormatException"/>. Images are read when sampled, as RGB by default.
/// </summary>
public sealed class VocDetection : IImageDataset
{
    private static readonly string[] Names =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog", "horse",
        "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    private readonly string[] _paths;
    private readonly string[] _annotations;
    private readonly Boxes[] _boxes;
    private readonly int _channels;

    private VocDetection(string[] ids, string[] paths, string[] annotations, Boxes[] boxes, int channels)
    {
        ImageIds = ids;
        _paths = paths;
        _annotations = annotations;
        _boxes = boxes;
        _channels = channels;
    }

    /// <summary>The 20 VOC classes, label by label.</summary>
    public static IReadOnlyList<string> VocClasses => Names;

    /// <inheritdoc />
    public int Count => _paths.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> Classes => VocClasses;

    /// <summary>The image ids of the split's list, in its order.</summary>
    public IReadOnlyList<string> ImageIds { get; }

    /// <summary>Reads split <paramref name="split"/> (e.g. trainval, test) of the year folder <paramref name="root"/>.</summary>
    /// <param name="root">The folder holding Annotations/, JPEGImages/ and ImageSets/Main/.</param>
    /// <param name="split">The list ImageSets/Main/&lt;split&gt;.txt.</param>
    /// <param name="channels">3 (RGB, the default) or 1 (grey).</param>
    /// <exception cref="DataFormatException">A file is missing or unreadable, the list is empty, or an annotation is wrong (the message names it).</exception>
    public static VocDetection Open(string root, string split, int channels = 3)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(split);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "images are read with 1 (grey) or 3 (RGB) channels");
        }

        var list = Path.Combine(root, "ImageSets", "Main", split + ".txt");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(list);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{list}: cannot be read ({e.Message}); a VOC root holds ImageSets/Main/<split>.txt, Annotations/ and JPEGImages/", e);
        }

        string[] ids = [.. lines.Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0])];
        if (ids.Length == 0)
        {
            throw new DataFormatException($"{list}: lists no images; a data set needs at least one image");
        }

        var paths = new string[ids.Length];
        var annotations = new string[ids.Length];
        var boxes = new Boxes[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            annotations[i] = Path.Combine(root, "Annotations", ids[i] + ".xml");
            boxes[i] = ReadAnnotation(annotations[i]);
            paths[i] = Path.Combine(root, "JPEGImages", ids[i] + ".jpg");
            if (!File.Exists(paths[i]))
            {
                throw new DataFormatException($"{paths[i]}: no such image file (image {ids[i]} of {list})");
            }
        }

        return new VocDetection(ids, paths, annotations, boxes, channels);
    }

    /// <summary>Reads one annotation file's boxes.</summary>
    /// <exception cref="DataFormatException">The file is missing, not XML, or an object is wrong (the message names it).</exception>
    public static Boxes ReadAnnotation(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        XDocument document;
        try
        {
            document = XDocument.Load(path, LoadOptions.SetLineInfo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot be read: {e.Message}", e);
        }
        catch (XmlException e)
        {
            throw new DataFormatException($"{path}:{e.LineNumber}:{e.LinePosition}: not XML: {e.Message}", e);
        }

        var annotation = document.Root is { Name.LocalName: "annotation" } r ? r
            : throw new DataFormatException($"{path}: the root element is <{document.Root?.Name.LocalName}>, not <annotation>");
        var size = annotation.Element("size") ?? throw new DataFormatException($"{path}: no <size> element; the image's width and height are needed");
        var width = (int)Number(path, size, "width", "size");
        var height = (int)Number(path, size, "height", "size");
        if (width < 1 || height < 1)
        {
            throw new DataFormatException($"{path}: <size> gives width {width} and height {height}; both must be at least 1");
        }

        var coordinates = new List<float>();
        var labels = new List<int>();
        var crowd = new List<bool>();
        var areas = new List<float>();
        var k = 0;
        foreach (var o in annotation.Elements("object"))
        {
            var name = o.Element("name")?.Value.Trim() ?? string.Empty;
            var record = $"{path}:{((IXmlLineInfo)o).LineNumber}: object {k} ('{name}')";
            var label = Array.IndexOf(Names, name);
            if (label < 0)
            {
                throw new DataFormatException($"{record}: '{name}' is not a VOC class ({string.Join(", ", VocClasses)})");
            }

            var box = o.Element("bndbox") ?? throw new DataFormatException($"{record}: no <bndbox>");
            double xmin = Number(record, box, "xmin", "bndbox"), ymin = Number(record, box, "ymin", "bndbox");
            double xmax = Number(record, box, "xmax", "bndbox"), ymax = Number(record, box, "ymax", "bndbox");
            if (xmax < xmin || ymax < ymin)
            {
                throw new DataFormatException($"{record}: bndbox ({xmin}, {ymin}, {xmax}, {ymax}) has xmax < xmin or ymax < ymin");
            }

            float x1 = (float)Math.Clamp(xmin - 1, 0, width), y1 = (float)Math.Clamp(ymin - 1, 0, height);
            float x2 = (float)Math.Clamp(xmax, 0, width), y2 = (float)Math.Clamp(ymax, 0, height);
            if (!(x2 > x1) || !(y2 > y1))
            {
                throw new DataFormatException($"{record}: bndbox ({xmin}, {ymin}, {xmax}, {ymax}) lies wholly outside the {width}x{height} (width x height) image");
            }

            var difficult = o.Element("difficult")?.Value.Trim() is { } d && d != "0" && d.Length > 0;
            coordinates.AddRange([x1, y1, x2, y2]);
            labels.Add(label);
            crowd.Add(difficult);
            areas.Add((x2 - x1) * (y2 - y1));
            k++;
        }

        return new Boxes(height, width, [.. coordinates], [.. labels], [.. crowd], [.. areas]);
    }

    /// <inheritdoc />
    public Sample Get(int index)
    {
        var image = ImageFolderDataset.ReadImage(_paths[index], _channels);
        var boxes = _boxes[index];
        return image.Height == boxes.Height && image.Width == boxes.Width ? new Sample(image, boxes, index)
            : throw new DataFormatException(
                $"{_paths[index]}: {image.Height}x{image.Width} pixels, but {_annotations[index]} gives height {boxes.Height}, width {boxes.Width}");
    }

    /// <summary>Samples carry boxes, not one class.</summary>
    public int LabelOf(int index) =>
        throw new NotSupportedException("VOC images carry boxes, not a class label; a detection set has no per-sample class");

    private static double Number(string record, XElement parent, string name, string parentName)
    {
        var text = parent.Element(name)?.Value.Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new DataFormatException($"{record}: <{parentName}><{name}> is {(text is null ? "missing" : $"'{text}'")}, not a number");
    }
}

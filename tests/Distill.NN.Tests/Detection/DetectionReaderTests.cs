using System.Text.Json.Nodes;
using Distill.NN.Data;
using Distill.NN.Data.Detection;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests.Detection;

/// <summary>The COCO instances and Pascal VOC XML readers on the committed fixtures, and one clear error per bad record.</summary>
public sealed class DetectionReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-detection-readers-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void WritePng(string path, int height, int width)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var scope = DisposeScope.Enter();
        using var pixels = Tensor.From(new byte[height * width * 3], height, width, 3);
        File.WriteAllBytes(path, ImageCodec.EncodePng(pixels));
    }

    /// <summary>The COCO fixture in a temp folder with its three images (20x30, 16x16, 24x20), optionally edited first.</summary>
    private string Coco(Action<JsonObject>? edit = null)
    {
        var json = JsonNode.Parse(File.ReadAllText(FixtureFiles.PathOf("detection_coco_instances.json")))!.AsObject();
        edit?.Invoke(json);
        var file = Path.Combine(_root, "instances.json");
        File.WriteAllText(file, json.ToJsonString());
        WritePng(Path.Combine(_root, "img", "a.png"), 20, 30);
        WritePng(Path.Combine(_root, "img", "b.png"), 16, 16);
        WritePng(Path.Combine(_root, "img", "sub", "c.png"), 24, 20);
        return file;
    }

    private DataFormatException CocoError(Action<JsonObject> edit) =>
        Assert.Throws<DataFormatException>(() => CocoDetection.Open(Coco(edit), Path.Combine(_root, "img")));

    [Fact]
    public void Coco_MapsCategoryIdsToContiguousLabelsById_KeepsNamesCrowdAndArea_ConvertsXywh_AndClipsAtTheEdge()
    {
        var set = CocoDetection.Open(Coco(), Path.Combine(_root, "img"));
        Assert.Equal(3, set.Count);
        Assert.Equal(["person", "car", "dog"], set.Classes);
        Assert.Equal([1L, 3, 18], set.CategoryIds);
        Assert.Equal([7L, 9, 12], set.ImageIds);

        var a = (Boxes)set.Get(0).Target;
        Assert.Equal((20, 30), (a.Height, a.Width));
        Assert.Equal([2.5f, 3, 12.5f, 7.5f, 0, 0, 30, 20], a.Coordinates);
        Assert.Equal([2, 0], a.Labels);
        Assert.Equal([false, true], a.Crowd);
        Assert.Equal([40.25f, 500], a.Areas);

        var b = set.Get(1);
        Assert.Equal(0, ((Boxes)b.Target).Count);
        Assert.Equal((3, 16, 16), (b.Image.Channels, b.Image.Height, b.Image.Width));

        // images[2]: the area-less box gets w x h; the box [15, 10, 7, 4] reaches x = 22 on a 20-wide image and is clipped to 20.
        var c = (Boxes)set.Get(2).Target;
        Assert.Equal([4f, 6, 12, 11, 15, 10, 20, 14], c.Coordinates);
        Assert.Equal([1, 0], c.Labels);
        Assert.Equal([40f, 20], c.Areas);
    }

    [Fact]
    public void Coco_AnnotationOfAMissingImage_NamesTheFileTheRecordAndTheImageId()
    {
        var e = CocoError(j => j["annotations"]![2]!["image_id"] = 99);
        Assert.Equal($"{Path.Combine(_root, "instances.json")}: annotations[2] (id 3) refers to image_id 99, which no entry of images has", e.Message);
    }

    [Fact]
    public void Coco_UnknownCategoryId_NamesTheRecordAndTheKnownIds()
    {
        var e = CocoError(j => j["annotations"]![0]!["category_id"] = 2);
        Assert.Equal($"{Path.Combine(_root, "instances.json")}: annotations[0] (id 1) has category_id 2, which categories does not list (ids 1, 3, 18)", e.Message);
    }

    [Fact]
    public void Coco_BoxesWithZeroOrNegativeExtent_AreSkippedAndCounted_TheOtherBoxesKept()
    {
        // annotations[3] is images[2]'s second box, annotations[0] images[0]'s first: one of width -2, one of height 0.
        var file = Coco(j =>
        {
            j["annotations"]![3]!["bbox"] = new JsonArray(15, 10, -2, 4);
            j["annotations"]![0]!["bbox"] = new JsonArray(2.5, 3, 10, 0);
        });
        var set = CocoDetection.Open(file, Path.Combine(_root, "img"));

        Assert.Equal(2, set.SkippedEmptyBoxes);
        Assert.Equal([0f, 0, 30, 20], ((Boxes)set.Get(0).Target).Coordinates);
        Assert.Equal([4f, 6, 12, 11], ((Boxes)set.Get(2).Target).Coordinates);
        Assert.Equal(0, CocoDetection.Open(Coco(), Path.Combine(_root, "img")).SkippedEmptyBoxes);
    }

    [Fact]
    public void Coco_BoxWithANonFiniteValue_IsRefused_NamingTheRecord()
    {
        var file = Coco(j => j["annotations"]![3]!["bbox"] = new JsonArray(15, 10, 12345, 4));
        File.WriteAllText(file, File.ReadAllText(file).Replace("12345", "1e400", StringComparison.Ordinal));
        var e = Assert.Throws<DataFormatException>(() => CocoDetection.Open(file, Path.Combine(_root, "img")));
        Assert.Equal($"{file}: annotations[3] (id 4) has bbox [15,10,1e400,4] with a value that is not a finite number", e.Message);
    }

    [Fact]
    public void Coco_BoxWhollyOutsideItsImage_IsRefused()
    {
        var e = CocoError(j => j["annotations"]![3]!["bbox"] = new JsonArray(25, 10, 3, 4));
        Assert.Equal($"{Path.Combine(_root, "instances.json")}: annotations[3] (id 4) has bbox [25, 10, 3, 4] wholly outside its 20x24 (width x height) image, image_id 12", e.Message);
    }

    [Fact]
    public void Coco_EmptyImageList_MissingImageFile_AndBrokenJson_EachGiveOneMessage()
    {
        var empty = CocoError(j => j["images"] = new JsonArray());
        Assert.Equal($"{Path.Combine(_root, "instances.json")}: images is empty; a data set needs at least one image", empty.Message);

        var missing = CocoError(j => j["images"]![1]!["file_name"] = "gone.png");
        Assert.Equal($"{Path.Combine(_root, "img", "gone.png")}: no such image file ({Path.Combine(_root, "instances.json")}: images[1] (id 9), file_name 'gone.png')", missing.Message);

        var file = Path.Combine(_root, "broken.json");
        File.WriteAllText(file, "{\"images\": [\n  {\"id\": 1,,}\n]}");
        var broken = Assert.Throws<DataFormatException>(() => CocoDetection.Open(file, _root));
        Assert.StartsWith($"{file}: not JSON (line 2, byte ", broken.Message, StringComparison.Ordinal);

        var noName = CocoError(j => j["categories"]![1]!.AsObject().Remove("name"));
        Assert.Equal($"{Path.Combine(_root, "instances.json")}: categories[1] needs name as a string", noName.Message);
    }

    [Fact]
    public void Coco_ImageWhoseSizeDiffersFromItsRecord_NamesTheFileAndBothSizes()
    {
        var set = CocoDetection.Open(Coco(j => j["images"]![1]!["height"] = 17), Path.Combine(_root, "img"));
        var e = Assert.Throws<DataFormatException>(() => set.Get(1));
        Assert.Equal($"{Path.Combine(_root, "img", "b.png")}: 16x16 pixels, but images[1] of {Path.Combine(_root, "instances.json")} says height 17, width 16", e.Message);
    }

    /// <summary>A VOC year folder with the fixture as 000005.xml (edited by <paramref name="edit"/>), its 40x50 image and a split list.</summary>
    private string Voc(Func<string, string>? edit = null, string list = "000005\n")
    {
        var voc = Path.Combine(_root, "VOC2007");
        Directory.CreateDirectory(Path.Combine(voc, "Annotations"));
        Directory.CreateDirectory(Path.Combine(voc, "ImageSets", "Main"));
        var xml = File.ReadAllText(FixtureFiles.PathOf("detection_voc_000005.xml"));
        File.WriteAllText(Path.Combine(voc, "Annotations", "000005.xml"), edit is null ? xml : edit(xml));
        File.WriteAllText(Path.Combine(voc, "ImageSets", "Main", "trainval.txt"), list);
        WritePng(Path.Combine(voc, "JPEGImages", "000005.jpg"), 40, 50);
        return voc;
    }

    [Fact]
    public void Voc_ConvertsOneBasedInclusiveBoxes_MarksDifficultAsCrowd_ClipsAtTheEdge_AndKeepsThe20Classes()
    {
        var set = VocDetection.Open(Voc(), "trainval");
        Assert.Equal(20, set.Classes.Count);
        Assert.Equal(["000005"], set.ImageIds);
        var sample = set.Get(0);
        var boxes = (Boxes)sample.Target;
        Assert.Equal((40, 50), (boxes.Height, boxes.Width));

        // chair (11, 5, 20, 30) -> (10, 4, 20, 30); diningtable (1, 21, 50, 40) -> (0, 20, 50, 40), difficult;
        // person (40, 2, 53, 12) -> (39, 1, 53, 12) clipped to x2 = 50.
        Assert.Equal([10f, 4, 20, 30, 0, 20, 50, 40, 39, 1, 50, 12], boxes.Coordinates);
        Assert.Equal([VocDetection.VocClasses.ToList().IndexOf("chair"), VocDetection.VocClasses.ToList().IndexOf("diningtable"), VocDetection.VocClasses.ToList().IndexOf("person")], boxes.Labels);
        Assert.Equal([false, true, false], boxes.Crowd);
        Assert.Equal([260f, 1000, 121], boxes.Areas);
    }

    [Fact]
    public void Voc_XmaxBelowXmin_UnknownClass_EmptyList_MissingImage_AndBrokenXml_EachNameTheFile()
    {
        var xml = Path.Combine(_root, "VOC2007", "Annotations", "000005.xml");
        var reversed = Assert.Throws<DataFormatException>(() => VocDetection.Open(Voc(x => x.Replace("<xmax>20</xmax>", "<xmax>9</xmax>", StringComparison.Ordinal)), "trainval"));
        Assert.Equal($"{xml}:10: object 0 ('chair'): bndbox (11, 5, 9, 30) has xmax < xmin or ymax < ymin", reversed.Message);

        var unknown = Assert.Throws<DataFormatException>(() => VocDetection.Open(Voc(x => x.Replace("<name>person</name>", "<name>unicorn</name>", StringComparison.Ordinal)), "trainval"));
        Assert.StartsWith($"{xml}:34: object 2 ('unicorn'): 'unicorn' is not a VOC class (aeroplane, bicycle, ", unknown.Message, StringComparison.Ordinal);

        var empty = Assert.Throws<DataFormatException>(() => VocDetection.Open(Voc(list: "\n\n"), "trainval"));
        Assert.Equal($"{Path.Combine(_root, "VOC2007", "ImageSets", "Main", "trainval.txt")}: lists no images; a data set needs at least one image", empty.Message);

        var missing = Assert.Throws<DataFormatException>(() => VocDetection.Open(Voc(list: "000005\n000007\n"), "trainval"));
        Assert.StartsWith($"{Path.Combine(_root, "VOC2007", "Annotations", "000007.xml")}: cannot be read: ", missing.Message, StringComparison.Ordinal);

        var broken = Assert.Throws<DataFormatException>(() => VocDetection.Open(Voc(x => x.Replace("</size>", "</sise>", StringComparison.Ordinal)), "trainval"));
        Assert.StartsWith($"{xml}:8:", broken.Message, StringComparison.Ordinal);
        Assert.Contains("not XML", broken.Message, StringComparison.Ordinal);

        var voc = Voc();
        File.Delete(Path.Combine(voc, "JPEGImages", "000005.jpg"));
        var noImage = Assert.Throws<DataFormatException>(() => VocDetection.Open(voc, "trainval"));
        Assert.Equal($"{Path.Combine(voc, "JPEGImages", "000005.jpg")}: no such image file (image 000005 of {Path.Combine(voc, "ImageSets", "Main", "trainval.txt")})", noImage.Message);
    }
}

using System.Text;
using System.Xml.Linq;
using Distill.Engine;
using Distill.Engine.Reporting;
using Distill.Models;
using Distill.NN.Data;
using Distill.Torch;
using Xunit;

namespace Distill.Tests.Reporting;

/// <summary>
/// report.html's segmentation sections: example predictions as embedded PNGs in palette colours with a class legend,
/// the per-class IoU table and bar chart; and that a report without sections is the classification report as before.
/// </summary>
public sealed class SegmentationReportTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly string[] Classes = ["background", "t-shirt", "trouser", "pullover"];

    [Fact]
    public void Report_WithSegmentationSections_ParsesAsXml_WithFourPngsPerExampleOfTheScaledSize_ALegendAndThePerClassTable()
    {
        var examples = Enumerable.Range(0, 3).Select(i => Example(i, teacher: true)).ToArray();
        var html = ReportWriter.Render("scenes", [Series("alone")], [new ReportWriter.ResultRow("student", "alone", [0.5])], "mIoU",
            [new PerClassIoUSection(Classes, [new PerClassIoURun("student alone", [[0.9, 0.5, double.NaN, 0.25]])]), new PredictionExamplesSection(examples, Classes, scale: 3)]);

        var document = Parse(html);
        var images = document.Descendants(Xhtml + "img").ToArray();
        Assert.Equal(3 * 4, images.Length);
        foreach (var img in images)
        {
            var src = (string)img.Attribute("src")!;
            Assert.StartsWith("data:image/png;base64,", src, StringComparison.Ordinal);
            var png = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            using var scope = DisposeScope.Enter();
            var decoded = ImageCodec.Decode(png, 0);
            Assert.Equal(6 * 3, decoded.Size(0));
            Assert.Equal(8 * 3, decoded.Size(1));
            Assert.Equal("24", (string)img.Attribute("width")!);
            Assert.Equal("18", (string)img.Attribute("height")!);
        }

        var headings = document.Descendants(Xhtml + "h2").Select(h => h.Value).ToArray();
        Assert.Equal(["Results", "Per-class IoU", "Example predictions"], headings);
        Assert.Equal(["image", "input", "ground truth", "teacher", "student"], document.Descendants(Xhtml + "table").Single(t => (string?)t.Attribute("class") == "examples")
            .Descendants(Xhtml + "th").Select(th => th.Value));

        var legend = document.Descendants(Xhtml + "div").Single(d => (string?)d.Attribute("class") == "legend");
        for (var c = 0; c < Classes.Length; c++)
        {
            Assert.Contains(legend.Elements(Xhtml + "span"), s => s.Value.Trim() == $"{c} {Classes[c]}"
                && ((string)s.Element(Xhtml + "span")!.Attribute("style")!).Contains($"background:{SegmentationPalette.Css(c)}", StringComparison.Ordinal));
        }

        Assert.Contains(legend.Elements(Xhtml + "span"), s => s.Value.Trim() == "255 ignored");

        var table = document.Descendants(Xhtml + "table").Single(t => (string?)t.Attribute("class") == "per-class-iou");
        var rows = table.Elements(Xhtml + "tr").Select(r => r.Elements().Select(e => e.Value).ToArray()).ToArray();
        Assert.Equal(["class", "student alone"], rows[0]);
        Assert.Equal(["background", "90.00"], rows[1]);
        Assert.Equal(["trouser", "—"], rows[3]);
        Assert.Equal(["mIoU", "55.00"], rows[^1]);
        Assert.Equal(3, document.Descendants(Svg + "svg").Count());
        Assert.Equal(3, document.Descendants(Svg + "rect").Count());
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictionFigure_OfAKnownMask_DrawsEveryClassInItsPaletteColour_AndIgnoredPixelsWhite()
    {
        // Row y of the 12 x 3 mask is class y (0-10), the last row is ignored; drawn at scale 2.
        var labels = new byte[12 * 3];
        for (var y = 0; y < 12; y++)
        {
            Array.Fill(labels, y == 11 ? Mask.Ignore : (byte)y, y * 3, 3);
        }

        var mask = new Mask(12, 3, labels);
        var section = new PredictionExamplesSection([new PredictionExample(new Image(1, 12, 3, new float[36]), mask, null, mask)], Classes, scale: 2);
        var images = Parse(Render(section)).Descendants(Xhtml + "img").ToArray();
        Assert.Equal(3, images.Length);

        using var scope = DisposeScope.Enter();
        var truth = ImageCodec.Decode(Convert.FromBase64String(((string)images[1].Attribute("src")!)["data:image/png;base64,".Length..]), 3);
        Assert.Equal(new long[] { 24, 6, 3 }, truth.Shape);
        var rgb = truth.ToArray<byte>();
        for (var y = 0; y < 24; y++)
        {
            var expected = y / 2 == 11 ? ((byte)255, (byte)255, (byte)255) : SegmentationPalette.ColorOf(y / 2);
            for (var x = 0; x < 6; x++)
            {
                var at = ((y * 6) + x) * 3;
                Assert.Equal(expected, (rgb[at], rgb[at + 1], rgb[at + 2]));
            }
        }
    }

    [Fact]
    public void PredictionFigure_OfImagesLargerThan512Pixels_IsDrawnAtAnIntegerFraction_TakingTheNearestPixel()
    {
        // 1030 rows (row y is class y mod 11) of 4 columns: shrink 3 draws 343 x 1, output row y showing source row 3y.
        var labels = new byte[1030 * 4];
        for (var y = 0; y < 1030; y++)
        {
            Array.Fill(labels, (byte)(y % 11), y * 4, 4);
        }

        var mask = new Mask(1030, 4, labels);
        var section = new PredictionExamplesSection([new PredictionExample(new Image(3, 1030, 4, new float[3 * 1030 * 4]), mask, null, mask)], Classes);
        Assert.Equal((1, 3), (section.Scale, section.Shrink));
        var images = Parse(Render(section)).Descendants(Xhtml + "img").ToArray();
        Assert.All(images, i => Assert.Equal(("1", "343"), ((string)i.Attribute("width")!, (string)i.Attribute("height")!)));

        using var scope = DisposeScope.Enter();
        var truth = ImageCodec.Decode(Convert.FromBase64String(((string)images[1].Attribute("src")!)["data:image/png;base64,".Length..]), 3);
        Assert.Equal(new long[] { 343, 1, 3 }, truth.Shape);
        var rgb = truth.ToArray<byte>();
        Assert.All(Enumerable.Range(0, 343), y => Assert.Equal(SegmentationPalette.ColorOf(3 * y % 11), (rgb[3 * y], rgb[(3 * y) + 1], rgb[(3 * y) + 2])));
        Assert.Equal((4, 1), (PredictionExamplesSection.AutoShrink(2048), PredictionExamplesSection.AutoShrink(512)));
        Assert.Equal((3, 1), (PredictionExamplesSection.AutoScale(64), PredictionExamplesSection.AutoScale(512)));
    }

    [Fact]
    public void Palette_IsThePascalVocColourMap_WithDistinctColours_AndWhiteForIgnore()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)0), SegmentationPalette.ColorOf(0));
        Assert.Equal(((byte)128, (byte)0, (byte)0), SegmentationPalette.ColorOf(1));
        Assert.Equal(((byte)0, (byte)128, (byte)0), SegmentationPalette.ColorOf(2));
        Assert.Equal(((byte)128, (byte)128, (byte)0), SegmentationPalette.ColorOf(3));
        Assert.Equal(((byte)64, (byte)0, (byte)0), SegmentationPalette.ColorOf(8));
        Assert.Equal(((byte)192, (byte)128, (byte)128), SegmentationPalette.ColorOf(15)); // VOC's person
        Assert.Equal(((byte)255, (byte)255, (byte)255), SegmentationPalette.ColorOf(Mask.Ignore));
        Assert.Equal("#800000", SegmentationPalette.Css(1));
        Assert.Equal(255, Enumerable.Range(0, 255).Select(SegmentationPalette.ColorOf).Distinct().Count());
    }

    [Fact]
    public void PerClassIoU_OneSeed_ShowsNoPlusMinus_SeveralSeeds_ShowMeanAndSampleStd_AndAbsentClassesADash()
    {
        var one = Render(new PerClassIoUSection(Classes, [new PerClassIoURun("a", [[0.9, 0.5, double.NaN, 0.25]])]));
        Assert.DoesNotContain("±", one, StringComparison.Ordinal);
        Assert.Contains("<td>50.00</td>", one, StringComparison.Ordinal);

        // Class 2 is absent in one seed only: its mean and std run over the other two.
        var three = new PerClassIoURun("b", [[0.5, 0.6, double.NaN, 0.1], [0.7, 0.6, 0.2, 0.1], [0.6, 0.6, 0.4, double.NaN]]);
        var several = Parse(Render(new PerClassIoUSection(Classes, [new PerClassIoURun("a", [[0.9, 0.5, double.NaN, 0.25]]), three])));
        var rows = several.Descendants(Xhtml + "tr").Select(r => r.Elements().Select(e => e.Value).ToArray()).ToArray();
        Assert.Equal(["class", "a", "b (3 seeds)"], rows[0]);
        Assert.Equal(["background", "90.00", "60.00 ± 10.00"], rows[1]);
        Assert.Equal(["trouser", "—", "30.00 ± 14.14"], rows[3]);

        // mIoU per seed over its classes present: 0.4, 0.4, 0.5333...
        Assert.Equal("44.44 ± 7.70", rows[^1][2]);
        // A ± whisker for each of b's four classes (each present in some seed), none for the single seed of a.
        Assert.Equal(4, several.Descendants(Svg + "line").Count(l => (string?)l.Attribute("stroke") == "#000"));
    }

    [Fact]
    public void PerClassIoU_ASeedWithTheWrongClassCount_IsAnErrorNamingTheRun()
    {
        var e = Assert.Throws<ArgumentException>(() => new PerClassIoUSection(Classes, [new PerClassIoURun("kd seed 1", [[0.5, 0.5]])]));
        Assert.StartsWith("run 'kd seed 1' has 2 per-class IoU values but there are 4 classes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_WithoutSections_IsUnchanged_AndHasNoSegmentationMarkup()
    {
        var series = new[] { Series("alone"), Series("kd") };
        var rows = new[] { new ReportWriter.ResultRow("resnet8", "kd", [0.70, 0.72]) };
        var plain = ReportWriter.Render("run", series, rows);
        Assert.Equal(plain, ReportWriter.Render("run", series, rows, "top-1", []));
        Assert.EndsWith("</svg>\n</div>\n</body></html>\n", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("IoU", plain, StringComparison.Ordinal);
    }

    [Fact]
    public void Collect_FromALoader_TakesTheFirstN_DenormalisesTheInput_AndPredictsWithEachModel()
    {
        var data = new OneHotScenes(5);
        var loader = new DataLoader(data, 2, transform: new Normalize([0.5, 0.5, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]));
        using var student = new Passthrough();
        using var teacher = new FlippedClasses();
        var examples = SegmentationExamples.Collect(student, teacher, loader, [0.5], [0.25], count: 3);

        Assert.Equal(3, examples.Count);
        for (var i = 0; i < 3; i++)
        {
            var sample = data.Get(i);
            var truth = (Mask)sample.Target;
            Assert.Equal(sample.Image.Data, examples[i].Input.Data); // (x - 0.5) / 0.25 * 0.25 + 0.5 is exact for 0 and 1
            Assert.Equal(truth.Data, examples[i].Truth.Data);
            Assert.Equal(data.Classes(i), examples[i].Student.Data);
            Assert.Equal(data.Classes(i).Select(c => (byte)(3 - c)), examples[i].Teacher!.Data);
        }

        var fromSamples = SegmentationExamples.Collect(student, null, [.. Enumerable.Range(0, 3).Select(data.Get)], [0.5], [0.25]);
        Assert.Equal(examples.Select(e => e.Student.Data), fromSamples.Select(e => e.Student.Data));
        Assert.All(fromSamples, e => Assert.Null(e.Teacher));
        Assert.True(student.IsTraining);
    }

    [Fact]
    public void Collect_ResizesLogitMapsOfLowerResolutionToTheMaskSize()
    {
        var data = new OneHotScenes(2, uniform: true);
        using var student = new HalfResolution();
        var example = Assert.Single(SegmentationExamples.Collect(student, null, new DataLoader(data, 4), [0.0], [1.0], count: 1));
        Assert.Equal((6, 8), (example.Student.Height, example.Student.Width));
        Assert.All(example.Student.Data, c => Assert.Equal(data.Classes(0)[0], c));
    }

    [Fact]
    public void Collect_NormalisationStatisticsThatDoNotFitTheChannels_AreOneError()
    {
        using var student = new Passthrough();
        var e = Assert.Throws<ArgumentException>(() => SegmentationExamples.Collect(student, null, new DataLoader(new OneHotScenes(1), 1), [0.1, 0.2], [0.3, 0.4]));
        Assert.StartsWith("mean has 2 values but the images have 4 channels", e.Message, StringComparison.Ordinal);
    }

    private static PredictionExample Example(int i, bool teacher)
    {
        var data = new OneHotScenes(4);
        var sample = data.Get(i);
        var truth = (Mask)sample.Target;
        var predicted = new Mask(6, 8, data.Classes(i));
        return new PredictionExample(new Image(1, 6, 8, sample.Image.Data[..48]), truth, teacher ? predicted : null, predicted);
    }

    private static ReportWriter.Series Series(string label) =>
        new(label, [new EpochResult(1, 0.1, new Dictionary<string, double> { ["ce"] = 1 }, 0.4, 0.4, 10, 1)]);

    private static string Render(IReportSection section)
    {
        var sb = new StringBuilder();
        section.AppendTo(sb);
        return $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{sb}</div>";
    }

    private static XDocument Parse(string html) => XDocument.Parse(html.Replace("<!DOCTYPE html>", string.Empty, StringComparison.Ordinal));

    /// <summary>
    /// 6 x 8 images of 4 channels, the one-hot of a class map (vertical stripes of classes i, i+1, ... mod 4; with
    /// <c>uniform</c> one class per image); the mask is the class map with its first row ignored.
    /// </summary>
    private sealed class OneHotScenes(int count, bool uniform = false) : IImageDataset
    {
        public int Count => count;

        IReadOnlyList<string> IImageDataset.Classes => SegmentationReportTests.Classes;

        public byte[] Classes(int index) => [.. Enumerable.Range(0, 48).Select(p => (byte)((index + (uniform ? 0 : p % 8 / 2)) % 4))];

        public Sample Get(int index)
        {
            var classes = Classes(index);
            var pixels = new float[4 * 48];
            for (var p = 0; p < 48; p++)
            {
                pixels[(classes[p] * 48) + p] = 1;
            }

            var mask = (byte[])classes.Clone();
            Array.Fill(mask, Mask.Ignore, 0, 8);
            return new Sample(new Image(4, 6, 8, pixels), new Mask(6, 8, mask), index);
        }

        public int LabelOf(int index) => throw new NotSupportedException("masks only");
    }

    /// <summary>Its input is its logit map.</summary>
    private sealed class Passthrough : ClassificationModel
    {
        protected override Tensor ForwardCore(Tensor input) => input;
    }

    /// <summary>Its input with the channels reversed: class c becomes K - 1 - c.</summary>
    private sealed class FlippedClasses : ClassificationModel
    {
        protected override Tensor ForwardCore(Tensor input) => input.Flip(1);
    }

    /// <summary>Every other row and column of its input: logits at half the mask's resolution.</summary>
    private sealed class HalfResolution : ClassificationModel
    {
        protected override Tensor ForwardCore(Tensor input) => input.Slice(2, 0, input.Size(2), 2).Slice(3, 0, input.Size(3), 2);
    }
}

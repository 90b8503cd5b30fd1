using System.Globalization;
using System.Text;

namespace Distill.NN.Metrics.Detection;

/// <summary>
/// The 12 numbers pycocotools' <c>summarize()</c> prints for boxes, in its order, and each category's AP.
/// A number is -1 when there is no ground truth to measure it on (as pycocotools reports it).
/// </summary>
/// <param name="Ap">AP at IoU 0.50:0.95, all areas, 100 detections: "COCO mAP".</param>
/// <param name="Ap50">AP at IoU 0.50.</param>
/// <param name="Ap75">AP at IoU 0.75.</param>
/// <param name="ApSmall">AP of objects up to 32² pixels.</param>
/// <param name="ApMedium">AP of objects from 32² to 96² pixels.</param>
/// <param name="ApLarge">AP of objects from 96² pixels.</param>
/// <param name="Ar1">Average recall with 1 detection per image and category.</param>
/// <param name="Ar10">Average recall with 10.</param>
/// <param name="Ar100">Average recall with 100.</param>
/// <param name="ArSmall">Average recall of small objects (100 detections).</param>
/// <param name="ArMedium">Average recall of medium objects.</param>
/// <param name="ArLarge">Average recall of large objects.</param>
/// <param name="PerCategory">Each category's AP, AP50 and AP75 (all areas, 100 detections), by ascending id.</param>
public sealed record CocoSummary(
    double Ap,
    double Ap50,
    double Ap75,
    double ApSmall,
    double ApMedium,
    double ApLarge,
    double Ar1,
    double Ar10,
    double Ar100,
    double ArSmall,
    double ArMedium,
    double ArLarge,
    IReadOnlyList<CocoCategoryAp> PerCategory)
{
    /// <summary>The 12 numbers in pycocotools' order (its <c>stats</c> array).</summary>
    public IReadOnlyList<double> Stats => [Ap, Ap50, Ap75, ApSmall, ApMedium, ApLarge, Ar1, Ar10, Ar100, ArSmall, ArMedium, ArLarge];

    /// <summary>The 12 lines pycocotools prints, in its layout (three decimals).</summary>
    public string FormatTable()
    {
        var lines = new (bool Ap, string Iou, string Area, int MaxDets)[]
        {
            (true, "0.50:0.95", "all", 100), (true, "0.50", "all", 100), (true, "0.75", "all", 100),
            (true, "0.50:0.95", "small", 100), (true, "0.50:0.95", "medium", 100), (true, "0.50:0.95", "large", 100),
            (false, "0.50:0.95", "all", 1), (false, "0.50:0.95", "all", 10), (false, "0.50:0.95", "all", 100),
            (false, "0.50:0.95", "small", 100), (false, "0.50:0.95", "medium", 100), (false, "0.50:0.95", "large", 100),
        };
        var stats = Stats;
        var text = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            var (ap, iou, area, maxDets) = lines[i];
            var title = ap ? "Average Precision" : "Average Recall";
            text.Append(CultureInfo.InvariantCulture,
                $" {title,-18} {(ap ? "(AP)" : "(AR)")} @[ IoU={iou,-9} | area={area,6} | maxDets={maxDets,3} ] = {stats[i].ToString("0.000", CultureInfo.InvariantCulture)}\n");
        }

        return text.ToString();
    }

    /// <summary>A Markdown table of each category's AP, AP50, AP75 (in percent) and ground-truth count; "-" for a category without ground truth.</summary>
    /// <param name="names">The category's name, or null to show the id.</param>
    public string FormatPerCategory(Func<int, string>? names = null)
    {
        static string Percent(double v) => v < 0 ? "-" : (100 * v).ToString("0.0", CultureInfo.InvariantCulture);
        var text = new StringBuilder("| category | AP | AP50 | AP75 | objects |\n|---|---|---|---|---|\n");
        foreach (var c in PerCategory)
        {
            var name = names?.Invoke(c.CategoryId) ?? c.CategoryId.ToString(CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"| {name} | {Percent(c.Ap)} | {Percent(c.Ap50)} | {Percent(c.Ap75)} | {c.GroundTruths} |\n");
        }

        return text.ToString();
    }
}

namespace Distill.NN.Data.Segmentation;

/// <summary>
/// Cityscapes' label ids (the values of <c>*_gtFine_labelIds.png</c>, 0-33) and the 19 train ids of the benchmark, as the
/// official label table (cityscapesScripts' labels.py) maps them: road 7 -> 0, sidewalk 8 -> 1, building 11 -> 2, wall 12
/// -> 3, fence 13 -> 4, pole 17 -> 5, traffic light 19 -> 6, traffic sign 20 -> 7, vegetation 21 -> 8, terrain 22 -> 9,
/// sky 23 -> 10, person 24 -> 11, rider 25 -> 12, car 26 -> 13, truck 27 -> 14, bus 28 -> 15, train 31 -> 16, motorcycle
/// 32 -> 17, bicycle 33 -> 18; every other id (unlabeled, ego vehicle, ground, parking, guard rail, caravan, ...) -> 255.
/// </summary>
public static class CityscapesLabels
{
    /// <summary>The 19 train classes in train-id order.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
    [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
        "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ];

    private static readonly (byte LabelId, byte TrainId)[] Evaluated =
    [
        (7, 0), (8, 1), (11, 2), (12, 3), (13, 4), (17, 5), (19, 6), (20, 7), (21, 8), (22, 9),
        (23, 10), (24, 11), (25, 12), (26, 13), (27, 14), (28, 15), (31, 16), (32, 17), (33, 18),
    ];

    /// <summary>The train id of each of the 256 byte values (255 for every id that is not evaluated).</summary>
    public static byte[] TrainIds()
    {
        var table = new byte[256];
        Array.Fill(table, Mask.Ignore);
        foreach (var (labelId, trainId) in Evaluated)
        {
            table[labelId] = trainId;
        }

        return table;
    }
}

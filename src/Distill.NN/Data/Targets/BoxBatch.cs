using Distill.Torch;

namespace Distill.NN.Data;

/// <summary>
/// The boxes of a batch for object detection, one entry per image (images hold different numbers of objects, as
/// torchvision's detection models take a list of per-image targets). Coordinates are continuous pixels of the batch's
/// input tensor, (x1, y1, x2, y2) with x2 &gt; x1 and y2 &gt; y1 (an object covering columns 3..5 has x1 = 3, x2 = 6).
/// </summary>
/// <param name="Boxes">Per image Float32 [N_i, 4] (x1, y1, x2, y2), N_i may be 0.</param>
/// <param name="Labels">Per image Int64 [N_i]: contiguous class indices 0..K-1 (a data set maps its category ids to these).</param>
/// <param name="Crowd">Per image Bool [N_i]: ignore regions (COCO's iscrowd, VOC's difficult); neither required nor penalised.</param>
/// <param name="Areas">Per image Float32 [N_i]: the objects' areas as the evaluation's area ranges read them (COCO's area field; w x h when a data set has none).</param>
/// <param name="ImageSizes">Per image its (height, width) before padding to the batch's size (mmdet's img_shape).</param>
public sealed record BoxBatch(IReadOnlyList<Tensor> Boxes, IReadOnlyList<Tensor> Labels, IReadOnlyList<Tensor> Crowd,
    IReadOnlyList<Tensor> Areas, IReadOnlyList<(int Height, int Width)> ImageSizes) : IBatchTargets
{
    /// <inheritdoc />
    public string Kind => "boxes";

    /// <inheritdoc />
    public long Count => Boxes.Count;
}

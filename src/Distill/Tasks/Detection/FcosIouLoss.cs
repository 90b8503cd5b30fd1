namespace Distill.Tasks.Detection;

/// <summary>The IoU-type regression loss of FCOS (all in the official (l, t, r, b) form with the +1 smoothing of the IoU).</summary>
public enum FcosIouLoss
{
    /// <summary>1 - GIoU (FCOS's improved configs and FGD's student).</summary>
    Giou,

    /// <summary>-log IoU (FCOS's default).</summary>
    Iou,

    /// <summary>1 - IoU.</summary>
    LinearIou,
}

namespace Distill.NN.Metrics.Detection;

/// <summary>How <see cref="VocEvaluator"/> turns a precision-recall curve into AP.</summary>
public enum VocApMethod
{
    /// <summary>VOC2010 and later: the area under the non-increasing precision envelope.</summary>
    Area,

    /// <summary>VOC2007: the mean over recall 0, 0.1, ..., 1 of the best precision at that recall or more.</summary>
    ElevenPoint,
}

using Distill.Torch;

namespace Distill.Models;

/// <summary>A semantic segmenter: logits at a fraction of the input resolution, with the taps dense methods read.</summary>
public abstract class SegmentationModel : TappedModel<Tensor>
{
    /// <summary>The auxiliary head's logits tap.</summary>
    public const string AuxLogitsTap = "aux_logits";

    /// <summary>The context head's feature tap.</summary>
    public const string ContextTap = "context";

    /// <summary>The main logits tap.</summary>
    public const string LogitsTap = "logits";

    /// <inheritdoc />
    public override bool InputSizeVaries => true;
}

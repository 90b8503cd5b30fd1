using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.Torch;

namespace Distill.Models.Segmentation;

/// <summary>
/// A semantic segmentation network: a <see cref="DilatedResNet"/> registered as "backbone", a context head and an
/// optional auxiliary head on layer3. The forward returns the main logits [B, K, h, w] at the backbone's resolution
/// (h = ceil(H / output stride) for the networks here), not resized to the input: the task resizes them. Every
/// network publishes the same taps (<see cref="StemTap"/> ... <see cref="AuxLogitsTap"/>); the aux head runs on every
/// forward so its logits can be read from the <see cref="AuxLogitsTap"/> tap. Inputs may change height and width
/// from batch to batch (<see cref="InputSizeVaries"/>).
/// </summary>
public abstract class SegmentationModel : TappedModel<Tensor>
{
    /// <summary>The stem's output (after its ReLU, before any max pool).</summary>
    public const string StemTap = "stem";

    /// <summary>layer1's output (after the final ReLU).</summary>
    public const string Stage1Tap = "stage1";

    /// <summary>layer2's output.</summary>
    public const string Stage2Tap = "stage2";

    /// <summary>layer3's output (the auxiliary head's input).</summary>
    public const string Stage3Tap = "stage3";

    /// <summary>layer4's output (the context head's input).</summary>
    public const string Stage4Tap = "stage4";

    /// <summary>layer1's last residual sum, before the final ReLU.</summary>
    public const string Stage1PreactTap = "stage1.preact";

    /// <summary>layer2's last residual sum, before the final ReLU.</summary>
    public const string Stage2PreactTap = "stage2.preact";

    /// <summary>layer3's last residual sum, before the final ReLU.</summary>
    public const string Stage3PreactTap = "stage3.preact";

    /// <summary>layer4's last residual sum, before the final ReLU.</summary>
    public const string Stage4PreactTap = "stage4.preact";

    /// <summary>The context head's feature just before its final dropout (if any) and 1x1 classifier.</summary>
    public const string ContextTap = "context";

    /// <summary>The main classifier's output: the tensor the forward returns.</summary>
    public const string LogitsTap = "logits";

    /// <summary>The auxiliary head's logits (on layer3); published only when <see cref="HasAuxiliary"/>.</summary>
    public const string AuxLogitsTap = "aux_logits";

    /// <summary>The module path of the backbone.</summary>
    public const string BackbonePath = "backbone";

    /// <summary>Registers <paramref name="backbone"/> as "backbone" (so its keys come first, as in torchvision).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one class.</exception>
    protected SegmentationModel(DilatedResNet backbone, int numClasses, bool hasAuxiliary)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        Backbone = RegisterModule(BackbonePath, backbone);
        NumClasses = numClasses;
        HasAuxiliary = hasAuxiliary;
    }

    /// <inheritdoc />
    public override bool InputSizeVaries => true;

    /// <summary>Classes (the logits' channels).</summary>
    public int NumClasses { get; }

    /// <summary>Whether the auxiliary head on layer3 exists (and the <see cref="AuxLogitsTap"/> tap with it).</summary>
    public bool HasAuxiliary { get; }

    /// <summary>The backbone.</summary>
    public DilatedResNet Backbone { get; }

    /// <summary>The input size over the logits' size.</summary>
    public int OutputStride => Backbone.OutputStride;

    /// <summary>
    /// Loads a torchvision ResNet's ImageNet weights (a safetensors file with keys conv1.weight, bn1.*,
    /// layer1.0.conv1.weight, ..., fc.*) into the backbone: each key goes to backbone.&lt;key&gt;, fc.* is skipped.
    /// Every backbone key must be in the file (num_batches_tracked may be absent, as in the older torchvision files;
    /// it stays 0) and every other key of the file must be a backbone key; the heads keep their weights.
    /// </summary>
    /// <returns>What was checked: the missing keys can only be num_batches_tracked buffers.</returns>
    /// <exception cref="CheckpointFormatException">The file cannot be read or is not safetensors; the message names it.</exception>
    /// <exception cref="StateDictMismatchException">Missing, unexpected or mismatched keys; nothing was loaded, the message lists them and names the file.</exception>
    public StateDictLoadResult LoadImageNetBackbone(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(path);
        return LoadImageNetBackbone(file.Tensors, path);
    }

    /// <summary>The <see cref="LoadImageNetBackbone(string)"/> of a state dict held in memory; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="StateDictMismatchException">Missing, unexpected or mismatched keys; nothing was loaded.</exception>
    public StateDictLoadResult LoadImageNetBackbone(IReadOnlyDictionary<string, Tensor> state, string source = "the state dict")
    {
        ArgumentNullException.ThrowIfNull(state);
        return Backbone.LoadTorchVisionState(state, $"{GetType().Name}'s backbone from {source} (torchvision ResNet keys, fc.* skipped)");
    }

    /// <summary>
    /// Publishes the taps every segmentation network has: stem and stages from the backbone, then context, logits
    /// and aux logits at the given module paths; the heads "classifier" (the logits' module) and "aux_classifier";
    /// the BN before each layer's final ReLU.
    /// </summary>
    protected void PublishTaps(string context, string logits, string? auxLogits, string? auxHead)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(logits);
        var prefix = BackbonePath + ".";
        AddStageTaps(prefix + DilatedResNet.StemModule,
            [.. Enumerable.Range(1, 4).Select(i => (prefix + DilatedResNet.LayerModule(i), prefix + Backbone.PreactModule(i)))]);
        AddTap(ContextTap, context);
        AddTap(LogitsTap, logits);
        AddHead("classifier", logits);
        if (auxLogits is not null)
        {
            AddTap(AuxLogitsTap, auxLogits);
            AddHead("aux_classifier", auxHead ?? auxLogits);
        }

        for (var i = 1; i <= 4; i++)
        {
            AddBnBeforeRelu(prefix + Backbone.BnBeforeReluModule(i));
        }
    }
}

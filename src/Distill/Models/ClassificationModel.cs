using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>
/// An image classifier of the zoo: logits from images, with the taps of a <see cref="TappedModel{TOutput}"/>
/// plus "pooled" (the vector the classifier reads) and "logits", and its classifier as the head "classifier"
/// (the "logits" tap's module unless the model names another).
/// </summary>
public abstract class ClassificationModel : TappedModel<Tensor>
{
    /// <inheritdoc />
    public override IReadOnlyList<HeadInfo> Heads =>
        base.Heads.Count > 0 || Taps.FirstOrDefault(t => t.Name == "logits") is not { } logits ? base.Heads : [new HeadInfo("classifier", logits.ModulePath)];

    /// <summary>
    /// The final linear classifier (the "classifier" head, or the last Linear of it when it is a
    /// Sequential such as dropout + linear): SDD applies it to region features.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model's head is not a linear layer.</exception>
    public Linear Head
    {
        get
        {
            var module = HeadModule("classifier");
            if (module is Sequential sequential)
            {
                module = Enumerable.Range(0, sequential.Count).Select(i => sequential[i]).OfType<Linear>().LastOrDefault() ?? module;
            }

            return module as Linear ?? throw new InvalidOperationException($"{GetType().Name}'s head '{Heads.First(h => h.Name == "classifier").ModulePath}' is a {module.GetType().Name}, not a linear layer");
        }
    }

    /// <summary>
    /// Publishes the usual taps of a staged classifier: stem, stage i and stage i.preact for each stage,
    /// pooled and logits.
    /// </summary>
    protected void AddStandardTaps(string stem, IReadOnlyList<(string Output, string Preact)> stages, string pooled, string logits)
    {
        AddStageTaps(stem, stages);
        AddTap("pooled", pooled);
        AddTap("logits", logits);
    }
}

using Distill.Torch;

namespace Distill.NN.Optim;

/// <summary>Parameters that share a learning rate and weight decay (a PyTorch param_group).</summary>
public sealed class ParameterGroup
{
    /// <summary>Creates a group; null hyperparameters take the optimizer's defaults.</summary>
    public ParameterGroup(IEnumerable<Tensor> parameters, double? learningRate = null, double? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        LearningRateOverride = learningRate;
        WeightDecayOverride = weightDecay;
    }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The current learning rate (schedulers change it).</summary>
    public double LearningRate { get; set; }

    /// <summary>The learning rate the first scheduler found (PyTorch's initial_lr).</summary>
    public double? InitialLearningRate { get; set; }

    /// <summary>L2 penalty (SGD, Adam) or decoupled decay (AdamW).</summary>
    public double WeightDecay { get; set; }

    internal double? LearningRateOverride { get; }

    internal double? WeightDecayOverride { get; }
}

using Distill.Torch;

namespace Distill.NN.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD):
/// g += wd p; buf = g (first step) or momentum buf + (1 - dampening) g; g = g + momentum buf (Nesterov) or buf; p -= lr g.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters.</summary>
    public Sgd(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : this([new ParameterGroup(parameters)], learningRate, momentum, dampening, weightDecay, nesterov)
    {
    }

    /// <summary>Creates the optimizer over parameter groups.</summary>
    /// <exception cref="ArgumentException">Nesterov without momentum, or with dampening.</exception>
    public Sgd(IEnumerable<ParameterGroup> groups, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(groups, learningRate, weightDecay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(momentum);
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
        }

        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
    }

    /// <summary>Momentum factor.</summary>
    public double Momentum { get; }

    /// <summary>Dampening of the gradient's share in the momentum buffer.</summary>
    public double Dampening { get; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor grad)
    {
        var d = group.WeightDecay != 0 ? grad.Add(parameter, group.WeightDecay) : grad;
        if (Momentum != 0)
        {
            var state = StateOf(parameter);
            if (!state.TryGetValue("momentum_buffer", out var buffer))
            {
                buffer = Keep(d.Clone().Detach());
                state["momentum_buffer"] = buffer;
            }
            else
            {
                buffer.MulInPlace(Momentum).AddInPlace(d, 1 - Dampening);
            }

            d = Nesterov ? d.Add(buffer, Momentum) : buffer;
        }

        parameter.AddInPlace(d, -group.LearningRate);
    }
}

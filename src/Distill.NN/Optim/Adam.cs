using Distill.Torch;

namespace Distill.NN.Optim;

/// <summary>
/// Adam (torch.optim.Adam) with L2 weight decay added to the gradient, or AdamW (torch.optim.AdamW) with
/// decoupled decay p *= 1 - lr wd. Bias corrections and the update order follow PyTorch 1.13's
/// single-tensor code: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps).
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates Adam over one group of parameters.</summary>
    public Adam(IEnumerable<Tensor> parameters, double learningRate = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool decoupledWeightDecay = false, bool amsGrad = false)
        : this([new ParameterGroup(parameters)], learningRate, betas, eps, weightDecay, decoupledWeightDecay, amsGrad)
    {
    }

    /// <summary>Creates Adam over parameter groups.</summary>
    public Adam(IEnumerable<ParameterGroup> groups, double learningRate = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool decoupledWeightDecay = false, bool amsGrad = false)
        : base(groups, learningRate, weightDecay)
    {
        Betas = betas ?? (0.9, 0.999);
        if (Betas.Beta1 is < 0 or >= 1 || Betas.Beta2 is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(betas), Betas, "betas must be in [0, 1)");
        }

        Eps = eps;
        DecoupledWeightDecay = decoupledWeightDecay;
        AmsGrad = amsGrad;
    }

    /// <summary>Decay rates of the first and second moments.</summary>
    public (double Beta1, double Beta2) Betas { get; }

    /// <summary>Added to the denominator.</summary>
    public double Eps { get; }

    /// <summary>True for AdamW's decoupled decay.</summary>
    public bool DecoupledWeightDecay { get; }

    /// <summary>Keeps the running maximum of the second moment.</summary>
    public bool AmsGrad { get; }

    /// <summary>AdamW (torch.optim.AdamW): decoupled weight decay, default 0.01.</summary>
    public static Adam AdamW(IEnumerable<Tensor> parameters, double learningRate = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0.01, bool amsGrad = false) =>
        new(parameters, learningRate, betas, eps, weightDecay, decoupledWeightDecay: true, amsGrad);

    /// <inheritdoc />
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor grad)
    {
        var state = StateOf(parameter);
        if (!state.TryGetValue("step", out var stepTensor))
        {
            stepTensor = Keep(Tensor.Zeros([]));
            state["step"] = stepTensor;
            state["exp_avg"] = Keep(parameter.ZerosLike());
            state["exp_avg_sq"] = Keep(parameter.ZerosLike());
            if (AmsGrad)
            {
                state["max_exp_avg_sq"] = Keep(parameter.ZerosLike());
            }
        }

        var (beta1, beta2) = Betas;
        var lr = group.LearningRate;
        stepTensor.AddInPlace(1);
        var g = grad;
        if (DecoupledWeightDecay)
        {
            parameter.MulInPlace(1 - (lr * group.WeightDecay));
        }
        else if (group.WeightDecay != 0)
        {
            g = grad.Add(parameter, group.WeightDecay);
        }

        var expAvg = state["exp_avg"];
        var expAvgSq = state["exp_avg_sq"];
        expAvg.MulInPlace(beta1).AddInPlace(g, 1 - beta1);
        expAvgSq.MulInPlace(beta2).AddCMulInPlace(g, g, 1 - beta2);
        double step = stepTensor.Item<float>();
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2 = 1 - Math.Pow(beta2, step);
        var stepSize = lr / biasCorrection1;
        var biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);
        Tensor denominator;
        if (AmsGrad)
        {
            var max = state["max_exp_avg_sq"];
            max.MaximumInPlace(expAvgSq);
            denominator = (max.Sqrt() / biasCorrection2Sqrt).AddInPlace(Eps);
        }
        else
        {
            denominator = (expAvgSq.Sqrt() / biasCorrection2Sqrt).AddInPlace(Eps);
        }

        parameter.AddCDivInPlace(expAvg, denominator, -stepSize);
    }
}

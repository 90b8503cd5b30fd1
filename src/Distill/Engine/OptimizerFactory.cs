using Distill.Methods;
using Distill.NN;
using Distill.NN.Optim;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// Builds the optimizer, parameter groups and learning-rate schedule a <see cref="TrainerOptions"/> describes. With no
/// group options every parameter (student's, then the method's) is in one group, as before groups existed.
/// </summary>
public static class OptimizerFactory
{
    /// <summary>
    /// The parameter groups, in this order and each only when non-empty: student with decay, student without
    /// (no_weight_decay_on), method with decay, method without; the method's groups take lr x method_lr_mult. A method's
    /// own parameters (<see cref="IHasOwnOptimizer"/>) are in none of them: its own optimizer steps them.
    /// </summary>
    /// <param name="student">The student.</param>
    /// <param name="method">The distiller's own parameters, if any.</param>
    /// <param name="options">The recipe.</param>
    public static IReadOnlyList<ParameterGroup> Groups(Module student, Module? method, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(options);
        var studentParameters = student.Parameters().ToArray();
        var own = new HashSet<Tensor>((method as IHasOwnOptimizer)?.OwnParameters ?? [], ReferenceEqualityComparer.Instance);
        var methodParameters = method?.Parameters().Where(p => !own.Contains(p)).ToArray() ?? [];
        if (options.NoWeightDecayOn.Count == 0 && options.MethodLrMult == 1)
        {
            return [new ParameterGroup([.. studentParameters, .. methodParameters])];
        }

        var noDecay = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var module in new[] { student, method }.OfType<Module>())
        {
            foreach (var (_, m) in module.NamedModules())
            {
                var norm = m is BatchNorm or GroupNorm or LayerNorm;
                foreach (var (name, p) in m.NamedParameters(recurse: false))
                {
                    if ((norm && options.NoWeightDecayOn.Contains("bn")) || (name == "bias" && options.NoWeightDecayOn.Contains("bias")))
                    {
                        noDecay.Add(p);
                    }
                }
            }
        }

        var groups = new List<ParameterGroup>();
        void Add(Tensor[] parameters, double? lr)
        {
            var decayed = parameters.Where(p => !noDecay.Contains(p)).ToArray();
            var exempt = parameters.Where(noDecay.Contains).ToArray();
            if (decayed.Length > 0)
            {
                groups.Add(new ParameterGroup(decayed, lr));
            }

            if (exempt.Length > 0)
            {
                groups.Add(new ParameterGroup(exempt, lr, weightDecay: 0));
            }
        }

        Add(studentParameters, null);
        Add(methodParameters, options.MethodLrMult == 1 ? null : options.LearningRate * options.MethodLrMult);
        return groups;
    }

    /// <summary>
    /// A method's own optimizer (<see cref="IHasOwnOptimizer.OwnOptimizer"/>) over its own parameters, in one group;
    /// <paramref name="recipeWeightDecay"/> where its settings' weight decay is null (the recipe's).
    /// </summary>
    /// <exception cref="ArgumentException">The method declares no own parameters, one that is not its registered parameter, or an unknown optimizer.</exception>
    public static Optimizer CreateOwn(Module method, IHasOwnOptimizer own, double recipeWeightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(own);
        var registered = new HashSet<Tensor>(method.Parameters(), ReferenceEqualityComparer.Instance);
        var parameters = own.OwnParameters;
        var name = (method as Distiller)?.Name ?? method.GetType().Name;
        if (parameters.Count == 0)
        {
            throw new ArgumentException($"method '{name}' has an own optimizer but declares no own parameters");
        }

        if (!parameters.All(registered.Contains))
        {
            throw new ArgumentException($"method '{name}': an own parameter is not a registered parameter of the method (register its module, so checkpoints keep it)");
        }

        var s = own.OwnOptimizer;
        return Build([new ParameterGroup(parameters)], s.Optimizer, s.LearningRate, s.Momentum, s.Nesterov, s.Betas, s.Eps, s.WeightDecay ?? recipeWeightDecay, $"method '{name}': own optimizer");
    }

    /// <summary>The optimizer over <paramref name="groups"/>: SGD (momentum, Nesterov, L2 decay), Adam (L2 decay) or AdamW (decoupled decay).</summary>
    /// <exception cref="ArgumentException">An unknown optimizer name.</exception>
    public static Optimizer Create(IReadOnlyList<ParameterGroup> groups, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Build(groups, options.Optimizer, options.LearningRate, options.Momentum, options.Nesterov, options.Betas, options.Eps, options.WeightDecay, "optimizer");
    }

    /// <summary>
    /// The schedule, counted in epochs or (with <see cref="TrainerOptions.StepPerIteration"/>) in iterations; a warm-up
    /// is a <see cref="LinearLR"/> from warmup_start_factor to 1 chained by <see cref="SequentialLR"/> into the
    /// schedule, which then runs over the remaining steps (PyTorch's SequentialLR([LinearLR, main], [warm-up])).
    /// Multistep milestones are epochs, converted to iterations when stepping per iteration.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown schedule, a per-iteration schedule without the iteration count, or a warm-up as long as the run.</exception>
    public static LearningRateScheduler CreateSchedule(Optimizer optimizer, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(options);
        if (options.StepPerIteration && options.IterationsPerEpoch < 1)
        {
            throw new ArgumentException("a per-iteration schedule needs TrainerOptions.IterationsPerEpoch");
        }

        var unit = options.StepPerIteration ? options.IterationsPerEpoch : 1;
        var total = Math.Max(1, options.Epochs) * unit;
        var warmup = (options.WarmupEpochs * unit) + options.WarmupIters;
        if (warmup > 0 && warmup >= total)
        {
            throw new ArgumentException($"the warm-up ({warmup} steps) must be shorter than the run ({total} steps)");
        }

        LearningRateScheduler? first = warmup > 0 ? new LinearLR(optimizer, options.WarmupStartFactor, 1.0, warmup) : null;
        var length = total - warmup;
        LearningRateScheduler main = options.Schedule switch
        {
            "multistep" => new MultiStepLR(optimizer, options.Milestones.Select(m => (m * unit) - warmup)),
            "cosine" => new CosineAnnealingLR(optimizer, length, options.EtaMin),
            "poly" => new PolynomialLR(optimizer, length, options.Power),
            "onecycle" => new OneCycleLR(optimizer, optimizer.Groups.Select(g => g.LearningRate).ToArray(), total),
            "constant" => new LambdaLR(optimizer, _ => 1.0),
            _ => throw new ArgumentException($"schedule '{options.Schedule}' is not one of multistep, cosine, poly, onecycle, constant"),
        };
        return first is null ? main : new SequentialLR(optimizer, [first, main], [warmup]);
    }

    private static Optimizer Build(IReadOnlyList<ParameterGroup> groups, string kind, double lr, double momentum, bool nesterov, (double, double) betas, double eps,
        double weightDecay, string what) => kind switch
        {
            "sgd" => new Sgd(groups, lr, momentum, weightDecay: weightDecay, nesterov: nesterov),
            "adam" => new Adam(groups, lr, betas, eps, weightDecay),
            "adamw" => new Adam(groups, lr, betas, eps, weightDecay, decoupledWeightDecay: true),
            _ => throw new ArgumentException($"{what} '{kind}' is not one of sgd, adam, adamw"),
        };
}

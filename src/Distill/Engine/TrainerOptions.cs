namespace Distill.Engine;

/// <summary>The optimisation recipe of a run; its defaults are those of a recipe's train section (<see cref="Configs.TrainConfig"/>).</summary>
public sealed record TrainerOptions
{
    /// <summary>The defaults of a recipe's train section, stated once there.</summary>
    private static readonly Configs.TrainConfig Recipe = new();

    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = Recipe.Epochs;

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = Recipe.Lr;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = Recipe.Momentum;

    /// <summary>Weight decay (all trainable parameters, distiller parts included).</summary>
    public double WeightDecay { get; init; } = Recipe.WeightDecay;

    /// <summary>"sgd", "adam" or "adamw".</summary>
    public string Optimizer { get; init; } = Recipe.Optimizer;

    /// <summary>Nesterov momentum (sgd).</summary>
    public bool Nesterov { get; init; } = Recipe.Nesterov;

    /// <summary>Adam's moment decay rates (adam, adamw).</summary>
    public (double Beta1, double Beta2) Betas { get; init; } = (Recipe.Betas[0], Recipe.Betas[1]);

    /// <summary>Adam's denominator term (adam, adamw).</summary>
    public double Eps { get; init; } = Recipe.Eps;

    /// <summary>"bn" and/or "bias": parameters put in groups without weight decay (empty: one group, all decayed).</summary>
    public IReadOnlyList<string> NoWeightDecayOn { get; init; } = Recipe.NoWeightDecayOn;

    /// <summary>Learning-rate multiplier of the distiller's own parameters (1: they share the student's group).</summary>
    public double MethodLrMult { get; init; } = Recipe.MethodLrMult;

    /// <summary>
    /// "multistep" (x0.1 at <see cref="Milestones"/>), "cosine" (to <see cref="EtaMin"/> over the run), "poly" (to zero,
    /// <see cref="Power"/>), "onecycle" (peak <see cref="LearningRate"/>) or "constant".
    /// </summary>
    public string Schedule { get; init; } = Recipe.Schedule;

    /// <summary>True: the schedule steps after every optimizer step; false: after every epoch.</summary>
    public bool StepPerIteration { get; init; }

    /// <summary>Optimizer steps per epoch (the training loader's batch count); needed when the schedule steps per iteration.</summary>
    public int IterationsPerEpoch { get; init; }

    /// <summary>Epochs after which the rate drops x0.1 (multistep; converted to iterations when stepping per iteration).</summary>
    public IReadOnlyList<int> Milestones { get; init; } = Recipe.Milestones;

    /// <summary>Linear warm-up in epochs (0: none).</summary>
    public int WarmupEpochs { get; init; } = Recipe.WarmupEpochs;

    /// <summary>Linear warm-up in iterations (per-iteration schedules; 0: none).</summary>
    public int WarmupIters { get; init; } = Recipe.WarmupIters;

    /// <summary>The warm-up's first factor of the rate.</summary>
    public double WarmupStartFactor { get; init; } = Recipe.WarmupStartFactor;

    /// <summary>Exponent of the poly schedule.</summary>
    public double Power { get; init; } = Recipe.Power;

    /// <summary>Final rate of the cosine schedule.</summary>
    public double EtaMin { get; init; } = Recipe.EtaMin;

    /// <summary>Largest global gradient L2 norm (0: no clipping).</summary>
    public double GradClip { get; init; } = Recipe.GradClip;

    /// <summary>
    /// With a <see cref="ProcessGroup"/> of more than one rank, the student's and the distiller's batch normalisation
    /// layers normalise with the whole global batch's statistics (converted in place to synchronise through the group,
    /// which must then be a native <see cref="Torch.Distributed.ProcessGroup"/>); otherwise no effect.
    /// </summary>
    public bool SyncBatchNorm { get; init; } = Recipe.SyncBn;

    /// <summary>The device of the models, the distiller and the batches; the running sums are kept there too.</summary>
    public Torch.Device Device { get; init; } = Torch.Device.Cpu;

    /// <summary>
    /// Data-parallel training: the ranks of the job (null, or a world size of 1: one process, as before). Every rank
    /// trains its shard of each batch; the trainer broadcasts rank 0's weights at the start, averages gradients after
    /// every backward, and broadcasts rank 0's buffers before each evaluation.
    /// </summary>
    public Torch.Distributed.IProcessGroup? ProcessGroup { get; init; }

    /// <summary>
    /// The memory format the teacher takes its images in (channels-last: a float32 teacher on the CPU, see
    /// teacher.channels_last); its tapped maps are handed to the method contiguous either way.
    /// </summary>
    public Torch.MemoryFormat TeacherInputFormat { get; init; }

    /// <summary>
    /// The memory format the student takes its training images in (channels-last: a classification student on the CPU
    /// whose weights were laid out so, see student.channels_last); its tapped maps are handed to the method contiguous.
    /// </summary>
    public Torch.MemoryFormat StudentInputFormat { get; init; }
}

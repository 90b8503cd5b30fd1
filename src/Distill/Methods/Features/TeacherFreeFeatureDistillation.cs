using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// Teacher-free feature distillation (Lujun Li, ECCV 2022; spec §11, as its train_kd.py): over the
/// student's stage maps f_1..f_n (shallow to deep), an intra-layer term (channels ranked by the mean of
/// their L2-normalised spatial maps; MSE between the top ⌊C/2⌋ and the bottom ⌊C/2⌋ channels, both with
/// gradient) averaged over the maps, and an inter-layer term (for every pair i &lt; j, the shallower map
/// average-pooled to the deeper one's size, MSE over the first min(C_i, C_j) channels against the detached
/// deeper map) averaged over the pairs. L = CE + min(1, epoch / warmup) (λ_inter L_inter + λ_intra L_intra),
/// λ_intra = 0.0008, λ_inter = 0.0005, warm-up 20 epochs; λ_inter weighs the inter term (the seed's README
/// multiplies it by λ_intra, a bug not copied). `tfd` needs no teacher; `tfd+` adds the warmed-up logit KD
/// term λ_kd T² KL(softmax(z_t/T) ‖ softmax(z_s/T)) at T = 4. Any channel counts work. Terms (the classification task adds "ce"):
/// "tfd_intra", "tfd_inter" (and "kd" for tfd+).
/// See docs/methods/tfd.md.
/// </summary>
public sealed class TeacherFreeFeatureDistillation : Distiller
{
    private readonly string[] _taps;

    /// <summary>Creates the method over the student taps <paramref name="taps"/> (shallow to deep).</summary>
    public TeacherFreeFeatureDistillation(IReadOnlyList<string> taps, double lambdaIntra = 0.0008, double lambdaInter = 0.0005, int warmupEpochs = 20,
        bool withKd = false, double kdWeight = 1, double temperature = 4, double ceWeight = 1)
    {
        ArgumentNullException.ThrowIfNull(taps);
        ArgumentOutOfRangeException.ThrowIfZero(taps.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(temperature);
        _taps = [.. taps];
        LambdaIntra = lambdaIntra;
        LambdaInter = lambdaInter;
        WarmupEpochs = warmupEpochs;
        WithKd = withKd;
        KdWeight = kdWeight;
        Temperature = temperature;
        CeWeight = ceWeight;
    }

    /// <inheritdoc />
    public override string Name => WithKd ? "tfd+" : "tfd";

    /// <inheritdoc />
    public override bool NeedsTeacher => WithKd;

    /// <inheritdoc />
    public override IReadOnlyList<string> StudentTaps => _taps;

    /// <summary>λ_intra.</summary>
    public double LambdaIntra { get; }

    /// <summary>λ_inter.</summary>
    public double LambdaInter { get; }

    /// <summary>Epochs of the linear warm-up of the whole Tf-FD (and KD) term.</summary>
    public int WarmupEpochs { get; }

    /// <summary>Whether logit KD from a teacher is added (tfd+).</summary>
    public bool WithKd { get; }

    /// <summary>λ_kd (tfd+).</summary>
    public double KdWeight { get; }

    /// <summary>The KD temperature (tfd+).</summary>
    public double Temperature { get; }

    /// <summary>The cross-entropy weight (the <c>ce_weight</c> option): the task-loss weight while this method trains; the trainer adds that term, not the method.</summary>
    public double CeWeight { get; }

    /// <inheritdoc />
    public override double TaskLossWeight => CeWeight;

    /// <summary>The intra-layer term of one map [B, C, H, W].</summary>
    public static Tensor Intra(Tensor feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        var (b, c) = (feature.Size(0), feature.Size(1));
        var half = c / 2;
        if (half == 0)
        {
            throw new ArgumentException($"tfd: a map with {c} channel cannot be split into halves ({Tensor.FormatShape(feature.Shape)})", nameof(feature));
        }

        Tensor order;
        using (Autograd.NoGrad())
        {
            var scores = F.Normalize(feature.Detach().Reshape([b, c, -1]), dim: 2).Mean([0, 2]);
            order = scores.Sort(0, descending: true, stable: true).Indices;
        }

        var ranked = feature.IndexSelect(1, order);
        return F.MseLoss(ranked.Narrow(1, 0, half), ranked.Narrow(1, c - half, half));
    }

    /// <summary>The inter-layer term of a shallower map and a deeper one (the deeper one detached).</summary>
    public static Tensor Inter(Tensor shallow, Tensor deep)
    {
        ArgumentNullException.ThrowIfNull(shallow);
        ArgumentNullException.ThrowIfNull(deep);
        var (a, b) = FeatureOps.MatchSpatial(shallow, deep.Detach());
        var channels = Math.Min(a.Size(1), b.Size(1));
        return F.MseLoss(a.Narrow(1, 0, channels), b.Narrow(1, 0, channels));
    }

    /// <inheritdoc />
    public override LossTerms ComputeLoss(DistillationInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var maps = _taps.Select(inputs.Student).ToArray();
        var intra = maps.Select(Intra).Aggregate((x, y) => x + y) / maps.Length;
        var warmup = DecoupledKnowledgeDistillation.WarmupFactor(inputs.Epoch, WarmupEpochs);
        var terms = new LossTerms()
            .Add("tfd_intra", intra * (warmup * LambdaIntra));
        if (maps.Length > 1)
        {
            var pairs = new List<Tensor>();
            for (var i = 0; i < maps.Length; i++)
            {
                for (var j = i + 1; j < maps.Length; j++)
                {
                    pairs.Add(Inter(maps[i], maps[j]));
                }
            }

            terms.Add("tfd_inter", pairs.Aggregate((x, y) => x + y) * (warmup * LambdaInter / pairs.Count));
        }

        if (WithKd)
        {
            var teacher = inputs.TeacherLogits ?? throw new InvalidOperationException("tfd+ needs teacher logits");
            terms.Add("kd", KnowledgeDistillation.KdLoss(inputs.StudentLogits, teacher, Temperature) * (warmup * KdWeight));
        }

        return terms;
    }
}

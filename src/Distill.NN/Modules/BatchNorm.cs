using Distill.Torch;
using Distill.Torch.Distributed;
using F = Distill.Torch.Functional;

namespace Distill.NN;

/// <summary>
/// Batch normalisation shared by <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> (torch.nn's
/// _BatchNorm): affine weight and bias, running mean and variance, num_batches_tracked; in training
/// the running statistics move by momentum (or by a cumulative average when momentum is null). With a
/// <see cref="ProcessGroup"/> of more than one rank, training uses the statistics of every rank's batch together
/// (see <see cref="SyncBatchNorm"/>).
/// </summary>
public abstract class BatchNorm : Module<Tensor, Tensor>
{
    private readonly int[] _dims;

    /// <summary>Creates the layer: weight 1, bias 0, running mean 0, running variance 1.</summary>
    protected BatchNorm(long numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, int[] acceptedDims)
    {
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        _dims = acceptedDims;
        Weight = RegisterParameter("weight", affine ? Tensor.Ones([numFeatures]) : null);
        Bias = RegisterParameter("bias", affine ? Tensor.Zeros([numFeatures]) : null);
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures]));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures]));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], DType.Int64));
        }
    }

    /// <summary>Channels (C of [N, C, ...]).</summary>
    public long NumFeatures { get; }

    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>The running statistics' update factor; null for a cumulative moving average.</summary>
    public double? Momentum { get; }

    /// <summary>The scale (gamma), or null when not affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>The shift (beta), or null when not affine.</summary>
    public Tensor? Bias { get; }

    /// <summary>The running mean, or null when statistics are not tracked.</summary>
    public Tensor? RunningMean { get; }

    /// <summary>The running (unbiased) variance, or null.</summary>
    public Tensor? RunningVar { get; }

    /// <summary>How many training batches updated the statistics.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>
    /// The ranks whose batches share statistics in training (set by <see cref="SyncBatchNorm"/> and
    /// <see cref="SyncBatchNorm.Convert"/>), or null for this process's batch alone.
    /// </summary>
    public IProcessGroup? ProcessGroup { get; internal set; }

    /// <summary>
    /// The convolution this layer was folded into (<see cref="BatchNormFolding"/>), or null: a folded layer passes its
    /// input through in eval mode, the convolution before it having applied its affine map already.
    /// </summary>
    public Module? FoldedInto { get; internal set; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor input)
    {
        var shape = input.Shape;
        if (!_dims.Contains(shape.Length))
        {
            throw new ArgumentException($"{GetType().Name} expects a {string.Join(" or ", _dims)}-d input; got shape {Tensor.FormatShape(shape)}");
        }

        if (shape[1] != NumFeatures)
        {
            throw new ArgumentException($"{GetType().Name}({NumFeatures}) got {shape[1]} channels (input shape {Tensor.FormatShape(shape)})");
        }

        if (FoldedInto is not null)
        {
            return IsTraining
                ? throw new InvalidOperationException($"{GetType().Name}({NumFeatures}) was folded into the convolution before it for inference; it cannot train")
                : input;
        }

        var momentum = Momentum ?? 0.0;
        if (IsTraining && NumBatchesTracked is not null)
        {
            NumBatchesTracked.AddInPlace(1);
            if (Momentum is null)
            {
                momentum = 1.0 / NumBatchesTracked.Item<long>();
            }
        }

        if (IsTraining && ProcessGroup is { WorldSize: > 1 } group)
        {
            // As torch.nn.SyncBatchNorm: only training synchronises; eval and a single rank are plain batch norm.
            var native = group as ProcessGroup ?? throw new NotSupportedException(
                $"{GetType().Name} synchronises through a {typeof(ProcessGroup).FullName}; got a {group.GetType().FullName}");
            return F.SyncBatchNorm(input, native, RunningMean, RunningVar, Weight, Bias, momentum, Eps);
        }

        var useBatchStats = IsTraining || RunningMean is null;
        if (useBatchStats)
        {
            long perChannel = shape[0];
            for (var i = 2; i < shape.Length; i++)
            {
                perChannel *= shape[i];
            }

            if (perChannel == 1)
            {
                throw new ArgumentException($"{GetType().Name} in training needs more than 1 value per channel; got input shape {Tensor.FormatShape(shape)}");
            }
        }

        // As PyTorch: without running statistics, batch statistics are used in eval too.
        return F.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStats, momentum, Eps);
    }

    /// <inheritdoc />
    protected override string ExtraRepresentation() =>
        $"{NumFeatures}, eps={Eps}, momentum={(Momentum is null ? "None" : Momentum.ToString())}, affine={Weight is not null}, track_running_stats={RunningMean is not null}";
}

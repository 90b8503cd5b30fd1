using System.Globalization;
using Distill.NN;
using Distill.NN.Checkpoints;
using Distill.NN.Optim;
using Distill.Torch;
using Distill.Torch.Distributed;

// Usage: DistributedWorker SCENARIO OUTPUT_DIRECTORY TIMEOUT_SECONDS, with RANK, WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set. Saves rank<R>.safetensors in the output directory; on a failure prints the message to
// standard error and exits with 3.
var scenario = args[0];
var output = args[1];
var timeout = TimeSpan.FromSeconds(double.Parse(args[2], CultureInfo.InvariantCulture));
try
{
    using var group = ProcessGroup.FromEnvironment(timeout);
    using var scope = DisposeScope.Enter();
    var results = scenario switch
    {
        "collectives" => Collectives(group),
        "exit-early" => ExitEarly(group),
        "stall" => Stall(group, timeout),
        "syncbn" => SyncBn(group),
        "ddp-training" => DdpTraining(group, output),
        _ => throw new ArgumentException($"unknown scenario '{scenario}'"),
    };
    SafeTensors.Save(Path.Combine(output, $"rank{group.Rank}.safetensors"), results);
    return 0;
}
catch (Exception e) when (e is TorchException or EnvironmentSettingException)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}

// Rank-dependent values through every collective; the test knows the expected results.
static Dictionary<string, Tensor> Collectives(ProcessGroup group)
{
    var r = group.Rank;
    var values = Tensor.Arange(0.0, 6.0).View(2, 3) * (r + 1.0);
    var sum = values.Clone();
    var counts = Tensor.Full([4], r + 1, DType.Int64);
    group.AllReduce([sum, counts]);
    var average = values.Clone();
    group.AllReduce([average], ReduceOp.Average);
    var max = Tensor.Full([3], r == 0 ? 5.0 : -1.0);
    var min = Tensor.Full([3], r == 0 ? 5.0 : -1.0);
    group.AllReduce([max], ReduceOp.Max);
    group.AllReduce([min], ReduceOp.Min);
    var broadcast = Tensor.Full([2, 2], (10 * r) + 5.0);
    var broadcast2 = Tensor.Full([3], (10 * r) + 6.0, DType.Float64);
    group.Broadcast([broadcast, broadcast2], root: group.WorldSize - 1);
    var gathered = group.AllGather(Tensor.Full([2], 100.0 + r));
    group.Barrier();
    var result = new Dictionary<string, Tensor>
    {
        ["sum"] = sum, ["counts"] = counts, ["average"] = average, ["max"] = max, ["min"] = min,
        ["broadcast"] = broadcast, ["broadcast2"] = broadcast2,
    };
    for (var i = 0; i < gathered.Length; i++)
    {
        result[$"gathered{i}"] = gathered[i];
    }

    return result;
}

// The last rank leaves right after joining; the others then try an all-reduce, which must fail, not hang.
static Dictionary<string, Tensor> ExitEarly(ProcessGroup group)
{
    group.Barrier();
    if (group.Rank == group.WorldSize - 1)
    {
        group.Dispose();
        Environment.Exit(0);
    }

    Thread.Sleep(300);
    var t = Tensor.Ones([16]);
    group.AllReduce([t]);
    return new() { ["t"] = t };
}

// The last rank stops taking part (sleeps past the timeout, then leaves); the others' all-reduce must time out.
static Dictionary<string, Tensor> Stall(ProcessGroup group, TimeSpan timeout)
{
    group.Barrier();
    if (group.Rank == group.WorldSize - 1)
    {
        Thread.Sleep(timeout * 2);
        Environment.Exit(0);
    }

    var t = Tensor.Ones([16]);
    group.AllReduce([t]);
    return new() { ["t"] = t };
}

// Each rank normalises its share of one batch of 6 (two ranks: samples 0-3 and 4-5, unequal on purpose, so the
// statistics must weight each rank by its count) with SyncBatchNorm, two
// training steps then eval, and backpropagates sum(y * g) for a fixed g; the weight and bias gradients are summed
// over ranks, as the data-parallel gradient reduction would (before its division by the world size).
static Dictionary<string, Tensor> SyncBn(ProcessGroup group)
{
    var (batch, channels) = (6L, 3L);
    if (group.WorldSize != 2)
    {
        throw new ArgumentException("the syncbn scenario splits its batch between exactly 2 ranks");
    }

    var (start, share) = group.Rank == 0 ? (0L, 4L) : (4L, 2L);
    var bn = new SyncBatchNorm(channels, group, momentum: 0.3);
    using (Autograd.NoGrad())
    {
        bn.Weight!.CopyFrom(Tensor.From(new[] { 0.5f, 1.5f, -2.0f }, 3));
        bn.Bias!.CopyFrom(Tensor.From(new[] { 0.1f, -0.2f, 0.3f }, 3));
    }

    var result = new Dictionary<string, Tensor>();
    for (var step = 0; step < 2; step++)
    {
        using var generator = new Generator(100 + (ulong)step);
        var x = (Tensor.Randn([batch, channels, 4, 5], generator: generator) * 3.0 + 2.0).Narrow(0, start, share).Clone().RequireGrad();
        var g = Tensor.Randn([batch, channels, 4, 5], generator: generator).Narrow(0, start, share).Clone();
        bn.ZeroGrad();
        var y = bn.Forward(x);
        (y * g).Sum().Backward();
        var gradWeight = bn.Weight!.Grad!.Clone();
        var gradBias = bn.Bias!.Grad!.Clone();
        group.AllReduce([gradWeight, gradBias]);
        result[$"y{step}"] = y.Detach();
        result[$"grad_x{step}"] = x.Grad!.Clone();
        result[$"grad_weight{step}"] = gradWeight;
        result[$"grad_bias{step}"] = gradBias;
    }

    result["running_mean"] = bn.RunningMean!.Clone();
    result["running_var"] = bn.RunningVar!.Clone();
    bn.Eval();
    using (var generator = new Generator(200))
    {
        result["eval"] = bn.Forward(Tensor.Randn([2, channels, 4, 5], generator: generator)).Detach();
    }

    return result;
}

// The golden case of eng/golden/ddp_training.py (its file is read from the output directory): the same network,
// initial state (rank 0's; the other ranks start from their own random weights and get rank 0's from the start-up
// broadcast), per-rank batches and SGD as PyTorch DDP ran, through the trainer's own data-parallel engine:
// broadcast and checksum at the start, zero_grad, loss, backward, gradient averaging, step; then the buffers from
// rank 0, as the trainer does before evaluating and saving.
static Dictionary<string, Tensor> DdpTraining(ProcessGroup group, string output)
{
    using var golden = SafeTensors.Load(Path.Combine(output, "ddp_training.safetensors"));
    var t = golden.Tensors;
    var model = new Sequential(new Conv2d(3, 4, 3, padding: 1, bias: false), new BatchNorm2d(4), new ReLU(),
        new AdaptiveAvgPool2d((1, 1)), new Flatten(), new Linear(4, 3));
    if (group.Rank == 0)
    {
        model.LoadStateDict(t.Where(p => p.Key.StartsWith("init.", StringComparison.Ordinal)).ToDictionary(p => p.Key["init.".Length..], p => p.Value));
    }

    var parameters = model.Parameters().ToList();
    using var parallel = new Distill.Engine.DataParallel(group, [model], parameters, []);
    parallel.SynchronizeState();
    var optimizer = new Sgd(parameters, 0.1, momentum: 0.9, weightDecay: 1e-4);
    for (var step = 0; ; step++)
    {
        if (!t.TryGetValue($"x.{step}.{group.Rank}", out var x))
        {
            break;
        }

        using var stepScope = DisposeScope.Enter();
        optimizer.ZeroGrad();
        var loss = Distill.Torch.Functional.CrossEntropy(model.Forward(x), t[$"y.{step}.{group.Rank}"]);
        loss.Backward();
        parallel.AverageGradients();
        optimizer.Step();
    }

    parallel.BroadcastBuffers();
    return model.StateDict().ToDictionary(p => p.Key, p => p.Value.Detach().Clone());
}

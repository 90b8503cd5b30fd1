using System.Globalization;
using System.Text.Json;
using Distill.NN.Optim;
using Distill.Torch;

namespace Distill.NN.Checkpoints;

/// <summary>
/// One safetensors file holding everything a run needs to resume bit-exact: model state ("model." keys),
/// optimizer state ("optimizer."), the global RNG state ("rng.cpu", and "rng.cudaN" for each GPU), and in the metadata the epoch, the
/// scheduler position and rates, the config text and caller entries. Loading checks the whole file, the
/// model keys and the optimizer state before changing anything.
/// </summary>
public static class TrainingCheckpoint
{
    private const string ModelPrefix = "model.";
    private const string OptimizerPrefix = "optimizer.";
    private const string RngKey = "rng.cpu";
    private const string CudaRngPrefix = "rng.cuda";
    private const string ExtraModulePrefix = "distiller.";
    private const string ExtraPrefix = "extra.";

    /// <summary>Writes the checkpoint atomically (an existing file is replaced only once the new one is complete).</summary>
    /// <param name="path">The file.</param>
    /// <param name="model">The trained model ("model." keys).</param>
    /// <param name="optimizer">Its optimizer, whose state is saved too.</param>
    /// <param name="scheduler">The schedule, whose position is saved.</param>
    /// <param name="epoch">The last completed epoch.</param>
    /// <param name="config">The run's configuration text.</param>
    /// <param name="extra">Caller entries.</param>
    /// <param name="distiller">A second module with learnable state (a distillation method's parts: "distiller." keys).</param>
    public static void Save(string path, Module model, Optimizer? optimizer = null, LearningRateScheduler? scheduler = null, int epoch = 0,
        string? config = null, IReadOnlyDictionary<string, string>? extra = null, Module? distiller = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = DisposeScope.Enter();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (key, value) in model.StateDict())
        {
            tensors.Add(new(ModelPrefix + key, value));
        }

        foreach (var (key, value) in distiller?.StateDict() ?? [])
        {
            tensors.Add(new(ExtraModulePrefix + key, value));
        }

        if (optimizer is not null)
        {
            foreach (var (key, value) in optimizer.StateTensors())
            {
                tensors.Add(new(OptimizerPrefix + key, value));
            }
        }

        tensors.Add(new(RngKey, TorchRuntime.GetRngState()));
        for (var i = 0; i < TorchRuntime.CudaDeviceCount; i++)
        {
            // Methods draw on the run's device (CRD's negatives, MGD's masks): each GPU's generator resumes too.
            tensors.Add(new($"{CudaRngPrefix}{i}", TorchRuntime.GetCudaRngState(i)));
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["distill.kind"] = "training",
            ["distill.epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
        };
        if (config is not null)
        {
            metadata["distill.config"] = config;
        }

        if (optimizer is not null)
        {
            metadata["distill.learning_rates"] = JsonSerializer.Serialize(optimizer.Groups.Select(g => g.LearningRate).ToArray());
        }

        if (scheduler is not null)
        {
            metadata["distill.scheduler_epoch"] = scheduler.LastEpoch.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            metadata[ExtraPrefix + key] = value;
        }

        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Restores model, optimizer, scheduler and RNG from a checkpoint; nothing changes unless all of it fits.</summary>
    /// <exception cref="CheckpointFormatException">The file is corrupt or not a training checkpoint.</exception>
    /// <exception cref="StateDictMismatchException">The model keys do not fit.</exception>
    public static TrainingState Load(string path, Module model, Optimizer? optimizer = null, LearningRateScheduler? scheduler = null, Module? distiller = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var file = SafeTensors.Load(path);
        var meta = file.Metadata;
        if (!meta.TryGetValue("distill.kind", out var kind) || kind != "training")
        {
            throw new CheckpointFormatException($"{path}: not a Distill training checkpoint (no distill.kind=training in its metadata)");
        }

        var modelState = Slice(file, ModelPrefix);
        var optimizerState = Slice(file, OptimizerPrefix);
        model.CheckStateDict(modelState, strict: true);
        var distillerState = Slice(file, ExtraModulePrefix);
        distiller?.CheckStateDict(distillerState, strict: true);
        if (optimizer is not null)
        {
            try
            {
                optimizer.CheckStateTensors(optimizerState);
            }
            catch (ArgumentException e)
            {
                throw new CheckpointFormatException($"{path}: the optimizer state does not fit: {e.Message}", e);
            }
        }

        double[]? rates = null;
        if (optimizer is not null && meta.TryGetValue("distill.learning_rates", out var ratesJson))
        {
            rates = JsonSerializer.Deserialize<double[]>(ratesJson);
            if (rates is null || rates.Length != optimizer.Groups.Count)
            {
                throw new CheckpointFormatException($"{path}: {rates?.Length ?? 0} saved learning rates for {optimizer.Groups.Count} parameter groups");
            }
        }

        if (!file.Tensors.TryGetValue(RngKey, out var rng))
        {
            throw new CheckpointFormatException($"{path}: tensor '{RngKey}' (the RNG state) is missing");
        }

        model.LoadStateDict(modelState, strict: true);
        distiller?.LoadStateDict(distillerState, strict: true);
        optimizer?.LoadStateTensors(optimizerState);
        if (rates is not null)
        {
            for (var i = 0; i < rates.Length; i++)
            {
                optimizer!.Groups[i].LearningRate = rates[i];
            }
        }

        if (scheduler is not null && meta.TryGetValue("distill.scheduler_epoch", out var schedulerEpoch))
        {
            scheduler.Restore(int.Parse(schedulerEpoch, CultureInfo.InvariantCulture), scheduler.Optimizer.Groups.Select(g => g.LearningRate).ToArray());
        }

        TorchRuntime.SetRngState(rng);
        for (var i = 0; i < TorchRuntime.CudaDeviceCount; i++)
        {
            // A checkpoint from a CPU run (or another machine's GPUs) leaves the generators it has no state for alone.
            if (file.Tensors.TryGetValue($"{CudaRngPrefix}{i}", out var cudaRng))
            {
                TorchRuntime.SetCudaRngState(i, cudaRng);
            }
        }
        var extra = meta.Where(m => m.Key.StartsWith(ExtraPrefix, StringComparison.Ordinal))
            .ToDictionary(m => m.Key[ExtraPrefix.Length..], m => m.Value, StringComparer.Ordinal);
        return new TrainingState(
            int.Parse(meta.GetValueOrDefault("distill.epoch", "0"), CultureInfo.InvariantCulture),
            meta.GetValueOrDefault("distill.config"),
            extra);
    }

    /// <summary>
    /// The model's state dict from either kind of file: a training checkpoint ("model." keys) or a bare
    /// state dict (best.safetensors, or a file written by PyTorch). The tensors stay owned by the file.
    /// </summary>
    public static Dictionary<string, Tensor> ModelState(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Tensors.Keys.Any(k => k.StartsWith(ModelPrefix, StringComparison.Ordinal))
            ? Slice(file, ModelPrefix)
            : file.Tensors.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    private static Dictionary<string, Tensor> Slice(SafeTensorsFile file, string prefix) =>
        file.Tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal);
}

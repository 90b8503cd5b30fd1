using System.Globalization;
using System.Text.Json;
using Distill.NN.Optim;
using Distill.Torch;

namespace Distill.NN.Checkpoints;

/// <summary>
/// One safetensors file holding everything a run needs to resume bit-exact: model state ("model." keys),
/// optimizer state ("optimizer."; a distillation method's own optimizer "method_optimizer."), the global RNG state ("rng.cpu", and "rng.cudaN" for each GPU), and in the metadata the epoch, the
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
    private const string MethodOptimizerPrefix = "method_optimizer.";
    private const string MethodRatesKey = "distill.method_learning_rates";
    private const string MethodSchedulerKey = "distill.method_scheduler_epoch";
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
    /// <param name="methodOptimizer">The distillation method's own optimizer (a discriminator's), whose state and rates are saved too.</param>
    /// <param name="methodScheduler">Its schedule, whose position is saved.</param>
    public static void Save(string path, Module model, Optimizer? optimizer = null, LearningRateScheduler? scheduler = null, int epoch = 0,
        string? config = null, IReadOnlyDictionary<string, string>? extra = null, Module? distiller = null, Optimizer? methodOptimizer = null,
        LearningRateScheduler? methodScheduler = null)
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

        foreach (var (key, value) in methodOptimizer?.StateTensors() ?? new Dictionary<string, Tensor>())
        {
            tensors.Add(new(MethodOptimizerPrefix + key, value));
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

        if (methodOptimizer is not null)
        {
            metadata[MethodRatesKey] = JsonSerializer.Serialize(methodOptimizer.Groups.Select(g => g.LearningRate).ToArray());
        }

        if (methodScheduler is not null)
        {
            metadata[MethodSchedulerKey] = methodScheduler.LastEpoch.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            metadata[ExtraPrefix + key] = value;
        }

        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Restores model, optimizer, scheduler and RNG from a checkpoint; nothing changes unless all of it fits: the
    /// file, the model, distiller and optimizer state, the RNG state, and every metadata value (epoch, scheduler
    /// position, learning rates, and the caller entries named in <paramref name="numericExtra"/>) are checked first. A
    /// distillation method's own optimizer and schedule are restored when given (the file must then hold their rates).
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is corrupt or not a training checkpoint, or a metadata value is malformed; the message names the file and the field.</exception>
    /// <exception cref="StateDictMismatchException">The model keys do not fit.</exception>
    public static TrainingState Load(string path, Module model, Optimizer? optimizer = null, LearningRateScheduler? scheduler = null, Module? distiller = null,
        IReadOnlyList<NumericEntry>? numericExtra = null, Optimizer? methodOptimizer = null, LearningRateScheduler? methodScheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var file = SafeTensors.Load(path);
        var meta = file.Metadata;
        if (!meta.TryGetValue("distill.kind", out var kind) || kind != "training")
        {
            throw new CheckpointFormatException($"{path}: not a Distill training checkpoint (no distill.kind=training in its metadata)");
        }

        var epoch = meta.TryGetValue("distill.epoch", out var epochText) ? Integer(path, "distill.epoch", epochText) : 0;
        int? schedulerEpoch = scheduler is not null && meta.TryGetValue("distill.scheduler_epoch", out var schedulerText)
            ? Integer(path, "distill.scheduler_epoch", schedulerText)
            : null;
        var rates = optimizer is not null && meta.TryGetValue("distill.learning_rates", out var ratesJson) ? Rates(path, "distill.learning_rates", ratesJson, optimizer.Groups.Count) : null;
        double[]? methodRates = null;
        if (methodOptimizer is not null)
        {
            methodRates = meta.TryGetValue(MethodRatesKey, out var methodJson)
                ? Rates(path, MethodRatesKey, methodJson, methodOptimizer.Groups.Count)
                : throw new CheckpointFormatException($"{path}: metadata '{MethodRatesKey}' is missing: the checkpoint holds no state for the method's own optimizer");
        }

        int? methodSchedulerEpoch = methodScheduler is not null && meta.TryGetValue(MethodSchedulerKey, out var methodSchedulerText)
            ? Integer(path, MethodSchedulerKey, methodSchedulerText)
            : null;
        var extra = meta.Where(m => m.Key.StartsWith(ExtraPrefix, StringComparison.Ordinal))
            .ToDictionary(m => m.Key[ExtraPrefix.Length..], m => m.Value, StringComparer.Ordinal);
        foreach (var entry in numericExtra ?? [])
        {
            if (extra.TryGetValue(entry.Key, out var text))
            {
                Number(path, ExtraPrefix + entry.Key, text, entry.Min, entry.Max);
            }
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

        var methodOptimizerState = Slice(file, MethodOptimizerPrefix);
        if (methodOptimizer is not null)
        {
            try
            {
                methodOptimizer.CheckStateTensors(methodOptimizerState);
            }
            catch (ArgumentException e)
            {
                throw new CheckpointFormatException($"{path}: the method's own optimizer state does not fit: {e.Message}", e);
            }
        }

        if (!file.Tensors.TryGetValue(RngKey, out var rng))
        {
            throw new CheckpointFormatException($"{path}: tensor '{RngKey}' (the RNG state) is missing");
        }

        using (var scope = DisposeScope.Enter())
        {
            var current = TorchRuntime.GetRngState();
            if (rng.DType != current.DType || !rng.Shape.SequenceEqual(current.Shape))
            {
                throw new CheckpointFormatException($"{path}: tensor '{RngKey}' (the RNG state) is {Tensor.FormatShape(rng.Shape)} {rng.DType}, expected {Tensor.FormatShape(current.Shape)} {current.DType}");
            }
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

        if (schedulerEpoch is { } last)
        {
            scheduler!.Restore(last, scheduler.Optimizer.Groups.Select(g => g.LearningRate).ToArray());
        }

        methodOptimizer?.LoadStateTensors(methodOptimizerState);
        for (var i = 0; i < (methodRates?.Length ?? 0); i++)
        {
            methodOptimizer!.Groups[i].LearningRate = methodRates![i];
        }

        if (methodSchedulerEpoch is { } methodLast)
        {
            methodScheduler!.Restore(methodLast, methodScheduler.Optimizer.Groups.Select(g => g.LearningRate).ToArray());
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

        return new TrainingState(epoch, meta.GetValueOrDefault("distill.config"), extra);
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

    private static int Integer(string path, string key, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CheckpointFormatException($"{path}: metadata '{key}' is '{Shorten(text)}', expected an integer from 0 to {int.MaxValue}");

    private static double Number(string path, string key, string text, double min, double max) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new CheckpointFormatException(
                $"{path}: metadata '{key}' is '{Shorten(text)}', expected a number from {min.ToString("R", CultureInfo.InvariantCulture)} to {max.ToString("R", CultureInfo.InvariantCulture)}");

    private static double[] Rates(string path, string key, string json, int groups)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new CheckpointFormatException($"{path}: metadata '{key}' is '{Shorten(json)}', expected a JSON array of {groups} learning rates");
            }

            var rates = new double[root.GetArrayLength()];
            var i = 0;
            foreach (var v in root.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var rate) || !double.IsFinite(rate) || rate < 0)
                {
                    throw new CheckpointFormatException($"{path}: metadata '{key}' element {i} is {Shorten(v.GetRawText())}, expected a finite number >= 0");
                }

                rates[i++] = rate;
            }

            return rates.Length == groups
                ? rates
                : throw new CheckpointFormatException($"{path}: metadata '{key}' has {rates.Length} learning rates for {groups} parameter groups");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{path}: metadata '{key}' is '{Shorten(json)}', not a JSON array of learning rates: {e.Message}", e);
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static Dictionary<string, Tensor> Slice(SafeTensorsFile file, string prefix) =>
        file.Tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal);
}

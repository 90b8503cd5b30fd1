using System.Globalization;
using System.Text;

namespace Distill.Configs;

/// <summary>Writes a <see cref="RunConfig"/> back as YAML with the loader's key names (the run folder's config.yaml).</summary>
public static class ConfigWriter
{
    /// <summary>The recipe as YAML that <see cref="ConfigLoader"/> reads back to an equal config.</summary>
    public static string ToYaml(RunConfig config)
    {
        var sb = new StringBuilder();
        var section = string.Empty;
        foreach (var (key, text) in Entries(config))
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                sb.Append(key).Append(": ").Append(text).Append('\n');
                continue;
            }

            if (key[..dot] != section)
            {
                section = key[..dot];
                sb.Append(section).Append(":\n");
            }

            sb.Append("  ").Append(key[(dot + 1)..]).Append(": ").Append(text).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Every key the recipe sets ("section.key", or "output") with its YAML text, in the order <see cref="ToYaml"/> writes them.</summary>
    internal static IEnumerable<(string Key, string Text)> Entries(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entries = new List<(string, string)>
        {
            ("data.dataset", Text(config.Data.Dataset)),
        };
        if (config.Data.Root is not null) entries.Add(("data.root", Text(config.Data.Root)));
        entries.Add(("data.train_subset", Text(config.Data.TrainSubset)));
        entries.Add(("data.test_subset", Text(config.Data.TestSubset)));
        entries.Add(("data.batch_size", Text(config.Data.BatchSize)));
        entries.Add(("data.augment", Text(!config.Data.Augment ? "none" : config.Data.Flip ? "crop+flip" : "crop")));
        if (config.Data.ImageSize > 0) entries.Add(("data.image_size", Text(config.Data.ImageSize)));
        Model(entries, "student", config.Student);
        if (config.Teacher is not null) Model(entries, "teacher", config.Teacher);
        entries.Add(("method.name", Text(config.Method.Name)));
        foreach (var (key, value) in config.Method.Options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            entries.Add(($"method.{key}", Text(value)));
        }

        Train(entries, config.Train);
        entries.Add(("output", Quote(config.Output)));
        return entries;
    }

    /// <summary>The train keys; those added after the first release are written only when they differ from their defaults, so older recipes and checkpoints read back equal.</summary>
    private static void Train(List<(string, string)> entries, TrainConfig train)
    {
        var defaults = new TrainConfig();
        entries.Add(("train.epochs", Text(train.Epochs)));
        entries.Add(("train.lr", Text(train.Lr)));
        if (train.Optimizer != defaults.Optimizer) entries.Add(("train.optimizer", Text(train.Optimizer)));
        entries.Add(("train.momentum", Text(train.Momentum)));
        if (train.Nesterov) entries.Add(("train.nesterov", "true"));
        if (!train.Betas.SequenceEqual(defaults.Betas)) entries.Add(("train.betas", List(train.Betas)));
        if (train.Eps != defaults.Eps) entries.Add(("train.eps", Text(train.Eps)));
        entries.Add(("train.weight_decay", Text(train.WeightDecay)));
        if (train.NoWeightDecayOn.Count > 0) entries.Add(("train.no_weight_decay_on", $"[{string.Join(", ", train.NoWeightDecayOn)}]"));
        if (train.MethodLrMult != defaults.MethodLrMult) entries.Add(("train.method_lr_mult", Text(train.MethodLrMult)));
        entries.Add(("train.schedule", Text(train.Schedule)));
        if (train.StepPer != defaults.StepPer) entries.Add(("train.step_per", Text(train.StepPer)));
        entries.Add(("train.milestones", $"[{string.Join(", ", train.Milestones)}]"));
        if (train.WarmupEpochs != 0) entries.Add(("train.warmup_epochs", Text(train.WarmupEpochs)));
        if (train.WarmupIters != 0) entries.Add(("train.warmup_iters", Text(train.WarmupIters)));
        if (train.WarmupStartFactor != defaults.WarmupStartFactor) entries.Add(("train.warmup_start_factor", Text(train.WarmupStartFactor)));
        if (train.Power != defaults.Power) entries.Add(("train.power", Text(train.Power)));
        if (train.EtaMin != defaults.EtaMin) entries.Add(("train.eta_min", Text(train.EtaMin)));
        if (train.GradClip != defaults.GradClip) entries.Add(("train.grad_clip", Text(train.GradClip)));
        entries.Add(("train.seed", Text(train.Seed)));
        if (train.Device != defaults.Device) entries.Add(("train.device", train.Device));
    }

    private static string List(IEnumerable<double> values) => $"[{string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]";

    private static void Model(List<(string, string)> entries, string name, ModelConfig model)
    {
        entries.Add(($"{name}.model", Text(model.Model)));
        if (model.Checkpoint is not null) entries.Add(($"{name}.checkpoint", Text(model.Checkpoint)));
    }

    /// <summary>A value as YAML: numbers round-trip exactly, strings are quoted (except list texts), lists are flow lists; the types a method option may hold (<see cref="OptionKind"/>) included.</summary>
    private static string Text(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s when s.StartsWith('[') => s,
        string s => Quote(s),
        int[] list => $"[{string.Join(", ", list.Select(i => i.ToString(CultureInfo.InvariantCulture)))}]",
        double[] list => List(list),
        string[] list => $"[{string.Join(", ", list)}]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

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
            entries.Add(($"method.{key}", value is string text ? Text(text) : Distill.Methods.MethodOption.Format(value)));
        }

        entries.Add(("train.epochs", Text(config.Train.Epochs)));
        entries.Add(("train.lr", Text(config.Train.Lr)));
        entries.Add(("train.momentum", Text(config.Train.Momentum)));
        entries.Add(("train.weight_decay", Text(config.Train.WeightDecay)));
        entries.Add(("train.schedule", Text(config.Train.Schedule)));
        entries.Add(("train.milestones", $"[{string.Join(", ", config.Train.Milestones)}]"));
        entries.Add(("train.seed", Text(config.Train.Seed)));
        if (config.Train.Device != "cpu")
        {
            entries.Add(("train.device", config.Train.Device));
        }
        entries.Add(("output", Quote(config.Output)));
        return entries;
    }

    private static void Model(List<(string, string)> entries, string name, ModelConfig model)
    {
        entries.Add(($"{name}.model", Text(model.Model)));
        if (model.Checkpoint is not null) entries.Add(($"{name}.checkpoint", Text(model.Checkpoint)));
    }

    private static string Text(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s when s.StartsWith('[') => s,
        string s => Quote(s),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

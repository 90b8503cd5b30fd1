using System.Globalization;
using System.Text;

namespace Distill.Configs;

/// <summary>Writes a <see cref="RunConfig"/> back as YAML with the loader's key names (the run folder's config.yaml).</summary>
public static class ConfigWriter
{
    /// <summary>The recipe as YAML that <see cref="ConfigLoader"/> reads back to an equal config.</summary>
    public static string ToYaml(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var sb = new StringBuilder();
        sb.Append("data:\n");
        Line(sb, "dataset", config.Data.Dataset);
        if (config.Data.Root is not null) Line(sb, "root", config.Data.Root);
        Line(sb, "train_subset", config.Data.TrainSubset);
        Line(sb, "test_subset", config.Data.TestSubset);
        Line(sb, "batch_size", config.Data.BatchSize);
        Line(sb, "augment", config.Data.Augment ? "true" : "false");
        Model(sb, "student", config.Student);
        if (config.Teacher is not null) Model(sb, "teacher", config.Teacher);
        sb.Append("method:\n");
        Line(sb, "name", config.Method.Name);
        foreach (var (key, value) in config.Method.Options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            Line(sb, key, value is string text ? text : Distill.Methods.MethodOption.Format(value));
        }

        sb.Append("train:\n");
        Line(sb, "epochs", config.Train.Epochs);
        Line(sb, "lr", config.Train.Lr);
        Line(sb, "momentum", config.Train.Momentum);
        Line(sb, "weight_decay", config.Train.WeightDecay);
        Line(sb, "schedule", config.Train.Schedule);
        Line(sb, "milestones", $"[{string.Join(", ", config.Train.Milestones)}]");
        Line(sb, "seed", config.Train.Seed);
        sb.Append("output: ").Append(Quote(config.Output)).Append('\n');
        return sb.ToString();
    }

    private static void Model(StringBuilder sb, string name, ModelConfig model)
    {
        sb.Append(name).Append(":\n");
        Line(sb, "model", model.Model);
        if (model.Checkpoint is not null) Line(sb, "checkpoint", model.Checkpoint);
    }

    private static void Line(StringBuilder sb, string key, object value)
    {
        var text = value switch
        {
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            string s when s.StartsWith('[') => s,
            string s => Quote(s),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        };
        sb.Append("  ").Append(key).Append(": ").Append(text).Append('\n');
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

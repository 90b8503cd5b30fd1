using System.Globalization;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using YamlDotNet.RepresentationModel;

namespace Distill.Configs;

/// <summary>
/// Reads a YAML recipe into a <see cref="RunConfig"/>, strictly: an unknown key, a value of the wrong type
/// or outside the allowed set, or a bad <c>--set key=value</c> override is an error naming the file and
/// line (or the override), the key, and what is allowed.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Loads <paramref name="path"/> and applies overrides such as "train.lr=0.01" in order.</summary>
    /// <exception cref="ConfigException">The file is missing or invalid, or an override is.</exception>
    public static RunConfig Load(string path, IEnumerable<string>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ConfigException($"{path}: no such config file");
        }

        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(path);
            stream.Load(reader);
            root = stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode as YamlMappingNode
                ?? throw new ConfigException($"{path}:1: the config must be a mapping of sections (data, student, teacher, method, train, output)");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ConfigException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}", e);
        }

        var origins = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        foreach (var o in overrides ?? [])
        {
            ApplyOverride(root, o, origins);
        }

        return Bind(new Section(path, "", root, origins, ["data", "student", "teacher", "method", "train", "output"]));
    }

    /// <summary>Loads a recipe from text (tests and embedded recipes); the name stands for the file in messages.</summary>
    public static RunConfig Parse(string yaml, string name = "config.yaml", IEnumerable<string>? overrides = null)
    {
        var temporary = Path.Combine(Path.GetTempPath(), $"distill-{Guid.NewGuid():N}-{Path.GetFileName(name)}");
        File.WriteAllText(temporary, yaml);
        try
        {
            return Load(temporary, overrides);
        }
        catch (ConfigException e)
        {
            throw new ConfigException(e.Message.Replace(temporary, name, StringComparison.Ordinal), e);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>"cuda" as "cuda:0"; text that names no device is an error at train.device's line.</summary>
    private static string DeviceText(Section train, string text)
    {
        try
        {
            return Torch.Device.Parse(text).ToString();
        }
        catch (FormatException e)
        {
            throw train.Error("device", $"train.device: {e.Message}");
        }
    }

    private static RunConfig Bind(Section root)
    {
        var data = root.Child("data", ["dataset", "root", "train_subset", "test_subset", "batch_size", "augment", "image_size"]);
        var student = root.Child("student", ["model", "checkpoint"]);
        var teacher = root.Child("teacher", ["model", "checkpoint"]);
        var methodName = root.Child("method", null)?.String("name", [.. MethodFactory.Names]) ?? "none";
        var descriptor = MethodFactory.Find(methodName);
        var method = root.Child("method", ["name", .. descriptor?.Options.Select(o => o.Key) ?? []]);
        var train = root.Child("train", ["epochs", "lr", "momentum", "weight_decay", "schedule", "milestones", "seed", "device"]);
        var models = ModelRegistry.Names.Select(n => n.Name).ToArray();
        var defaults = new RunConfig();
        var dataset = data?.String("dataset", ["fashion-mnist", "cifar10", "cifar100", "idx", "folder"]) ?? defaults.Data.Dataset;
        var augment = data?.String("augment", ["crop+flip", "crop", "none", "true", "false", "True", "False", "yes", "no"]) switch
        {
            null or "crop+flip" or "true" or "True" or "yes" => (Crop: true, Flip: true),
            "crop" => (Crop: true, Flip: false),
            _ => (Crop: false, Flip: true),
        };
        var config = new RunConfig
        {
            Data = new DataConfig
            {
                Dataset = dataset,
                Root = data?.String("root") ?? (dataset == "fashion-mnist" ? null : throw data!.Error("dataset",
                    $"data.root is required for dataset {dataset} ({DatasetFactory.RootLayout(dataset)})")),
                TrainSubset = data?.Int("train_subset", 0) ?? 0,
                TestSubset = data?.Int("test_subset", 0) ?? 0,
                BatchSize = data?.Int("batch_size", 1) ?? defaults.Data.BatchSize,
                Augment = augment.Crop,
                Flip = augment.Flip,
                ImageSize = data?.Int("image_size", 1) ?? 0,
            },
            Student = new ModelConfig
            {
                Model = student?.String("model", models) ?? throw root.Error("student", "student.model is required"),
                Checkpoint = student?.String("checkpoint"),
            },
            Teacher = teacher is null ? null : new ModelConfig
            {
                Model = teacher.String("model", models) ?? throw root.Error("teacher", "teacher.model is required when a teacher section is given"),
                Checkpoint = teacher.String("checkpoint"),
            },
            Method = new MethodConfig { Name = methodName, Options = method is null || descriptor is null ? new Dictionary<string, object>() : MethodOptions(method, descriptor) },
            Train = new TrainConfig
            {
                Epochs = train?.Int("epochs", 1) ?? defaults.Train.Epochs,
                Lr = train?.Double("lr", 0) ?? defaults.Train.Lr,
                Momentum = train?.Double("momentum", 0) ?? defaults.Train.Momentum,
                WeightDecay = train?.Double("weight_decay", 0) ?? defaults.Train.WeightDecay,
                Schedule = train?.String("schedule", ["multistep", "cosine"]) ?? defaults.Train.Schedule,
                Milestones = train?.IntList("milestones") ?? defaults.Train.Milestones,
                Seed = train?.Int("seed", 0) ?? 0,
                Device = train?.String("device") is { } device ? DeviceText(train, device) : defaults.Train.Device,
            },
            Output = root.String("output") ?? defaults.Output,
        };
        if (descriptor is { NeedsTeacher: true } && config.Teacher?.Checkpoint is null)
        {
            throw root.Error("method", $"method '{config.Method.Name}' needs teacher.model and teacher.checkpoint (train one with `distill teacher`)");
        }

        return config;
    }

    private static Dictionary<string, object> MethodOptions(Section section, MethodDescriptor descriptor)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var option in descriptor.Options)
        {
            object? value = option.Kind switch
            {
                MethodOptionKind.Number => section.Double(option.Key, option.Minimum),
                MethodOptionKind.Integer => section.Int(option.Key, double.IsNegativeInfinity(option.Minimum) ? int.MinValue : (int)option.Minimum),
                MethodOptionKind.Boolean => section.Bool(option.Key),
                MethodOptionKind.Choice => section.String(option.Key, [.. option.Allowed]),
                MethodOptionKind.Text => section.String(option.Key),
                MethodOptionKind.IntegerList => section.IntList(option.Key),
                MethodOptionKind.NumberList => section.DoubleList(option.Key),
                _ => section.StringList(option.Key),
            };
            if (value is not null)
            {
                values[option.Key] = value;
            }
        }

        return values;
    }

    private static void ApplyOverride(YamlMappingNode root, string text, Dictionary<YamlNode, string> origins)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ConfigException($"override '{text}' is not key=value (e.g. train.lr=0.01)");
        }

        var parts = text[..eq].Split('.');
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var key = new YamlScalarNode(parts[i]);
            if (!node.Children.TryGetValue(key, out var child))
            {
                child = new YamlMappingNode();
                node.Children[key] = child;
                origins[key] = text;
            }

            node = child as YamlMappingNode ?? throw new ConfigException($"override '{text}': '{string.Join('.', parts[..(i + 1)])}' is a value, not a section");
        }

        var value = text[(eq + 1)..];
        YamlNode parsed = value.StartsWith('[') ? ParseFlow(value, text) : new YamlScalarNode(value);
        var leaf = new YamlScalarNode(parts[^1]);
        node.Children[leaf] = parsed;
        origins[leaf] = text;
        origins[parsed] = text;
    }

    private static YamlNode ParseFlow(string value, string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(value));
            return stream.Documents[0].RootNode;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ConfigException($"override '{text}': '{value}' is not a YAML list: {e.Message}", e);
        }
    }

    /// <summary>One mapping of the recipe, with the keys it allows.</summary>
    private sealed class Section
    {
        private readonly string _file;
        private readonly string _path;
        private readonly YamlMappingNode _node;
        private readonly Dictionary<YamlNode, string> _origins;

        public Section(string file, string path, YamlMappingNode node, Dictionary<YamlNode, string> origins, string[]? allowed)
        {
            _file = file;
            _path = path;
            _node = node;
            _origins = origins;
            foreach (var key in allowed is null ? [] : node.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? string.Empty;
                if (!allowed!.Contains(name))
                {
                    throw new ConfigException($"{Where(key)}: unknown key '{Qualified(name)}'; {(_path.Length == 0 ? "sections" : $"keys of {_path}")} are: {string.Join(", ", allowed!)}");
                }
            }
        }

        public Section? Child(string key, string[]? allowed)
        {
            if (!_node.Children.TryGetValue(new YamlScalarNode(key), out var child) || child is YamlScalarNode { Value: null or "" or "~" or "null" })
            {
                return null;
            }

            return child is YamlMappingNode map
                ? new Section(_file, Qualified(key), map, _origins, allowed)
                : throw new ConfigException($"{Where(child)}: '{Qualified(key)}' must be a section{(allowed is null ? string.Empty : $" with keys {string.Join(", ", allowed!)}")}");
        }

        public string? String(string key, string[]? allowed = null)
        {
            var (node, text) = Scalar(key);
            if (text is null)
            {
                return null;
            }

            if (allowed is not null && !allowed.Contains(text))
            {
                throw new ConfigException($"{Where(node!)}: {Qualified(key)} is '{text}'; allowed: {string.Join(", ", allowed)}");
            }

            return text;
        }

        public int? Int(string key, int min)
        {
            var (node, text) = Scalar(key);
            if (text is null)
            {
                return null;
            }

            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min)
            {
                throw new ConfigException($"{Where(node!)}: {Qualified(key)} is '{text}'; expected an integer >= {min}");
            }

            return v;
        }

        public double? Double(string key, double min)
        {
            var (node, text) = Scalar(key);
            if (text is null)
            {
                return null;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v) || v < min)
            {
                throw new ConfigException($"{Where(node!)}: {Qualified(key)} is '{text}'; expected a number{(double.IsNegativeInfinity(min) ? string.Empty : $" >= {min.ToString(CultureInfo.InvariantCulture)}")}");
            }

            return v;
        }

        public bool? Bool(string key)
        {
            var (node, text) = Scalar(key);
            return text switch
            {
                null => null,
                "true" or "True" or "yes" => true,
                "false" or "False" or "no" => false,
                _ => throw new ConfigException($"{Where(node!)}: {Qualified(key)} is '{text}'; expected true or false"),
            };
        }

        public int[]? IntList(string key) =>
            List(key, "integers, e.g. [150, 180, 210]", text => (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v), v));

        public double[]? DoubleList(string key) =>
            List(key, "numbers, e.g. [1, 1.5]", text => (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v), v));

        public string[]? StringList(string key) =>
            List(key, "names, e.g. [stage1, stage2]", text => (!string.IsNullOrEmpty(text), text ?? string.Empty));

        private T[]? List<T>(string key, string expected, Func<string?, (bool Ok, T Value)> parse)
        {
            if (!_node.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                return null;
            }

            if (node is not YamlSequenceNode list)
            {
                throw new ConfigException($"{Where(node)}: {Qualified(key)} must be a list of {expected}");
            }

            return list.Children.Select(item => item is YamlScalarNode s && parse(s.Value) is (true, var v)
                ? v
                : throw new ConfigException($"{Where(item)}: {Qualified(key)} holds '{(item as YamlScalarNode)?.Value ?? item.ToString()}'; expected a list of {expected}")).ToArray();
        }

        public ConfigException Error(string key, string message) =>
            new($"{(_node.Children.TryGetValue(new YamlScalarNode(key), out var node) ? Where(node) : _file)}: {message}");

        private (YamlNode? Node, string? Text) Scalar(string key)
        {
            if (!_node.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                return (null, null);
            }

            return node is YamlScalarNode scalar
                ? (node, scalar.Value is null or "~" or "null" ? null : scalar.Value)
                : throw new ConfigException($"{Where(node)}: {Qualified(key)} must be a single value");
        }

        private string Qualified(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

        private string Where(YamlNode node) =>
            _origins.TryGetValue(node, out var text) ? $"override --set {text}" : $"{_file}:{node.Start.Line}";
    }
}

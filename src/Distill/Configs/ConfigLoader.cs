using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using Distill.Schema;

namespace Distill.Configs;

/// <summary>
/// Reads a YAML recipe into a <see cref="RunConfig"/>, strictly: an unknown key, a value of the wrong type
/// or outside the allowed set, or a bad <c>--set key=value</c> override is an error naming the file and
/// line (or the override), the key, and what is allowed.
/// </summary>
public static class ConfigLoader
{
    /// <summary>The deepest nesting of lists and mappings a recipe may have (recipes use 3).</summary>
    private const int MaxNesting = 64;

    /// <summary>Loads <paramref name="path"/> and applies overrides such as "train.lr=0.01" in order.</summary>
    /// <param name="path">The recipe file.</param>
    /// <param name="methods">The methods the method section may name, with their options (the engine's <c>Recipes.Methods</c>).</param>
    /// <param name="overrides">"key=value" texts, applied in order over the file's values.</param>
    /// <exception cref="ConfigException">The file is missing or invalid, or an override is.</exception>
    public static RunConfig Load(string path, IMethodSchema methods, IEnumerable<string>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ConfigException($"{path}: no such config file");
        }

        var root = ReadFile(path);

        return Bind(root, path, methods, overrides);
    }

    /// <summary>
    /// Where a key's value comes from, for checks made after loading (e.g. one that depends on the number of
    /// processes): "recipe.yaml:LINE", "override --set KEY=VALUE", or "recipe.yaml (default)" when neither gives it.
    /// </summary>
    /// <param name="path">The recipe file (already loaded once: it exists and parses).</param>
    /// <param name="overrides">The overrides it was loaded with.</param>
    /// <param name="key">A dotted key, e.g. "data.batch_size".</param>
    /// <exception cref="ConfigException">The file cannot be read or parsed.</exception>
    public static string Locate(string path, IEnumerable<string>? overrides, string key)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(key);
        var root = ReadFile(path);

        var origins = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        foreach (var o in overrides ?? [])
        {
            ApplyOverride(root, o, origins);
        }

        YamlNode? node = root;
        foreach (var part in key.Split('.'))
        {
            node = node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(part), out var child) ? child : null;
        }

        return node is null ? $"{path} (default)" : origins.TryGetValue(node, out var text) ? $"override --set {text}" : $"{path}:{node.Start.Line}";
    }

    /// <summary>Loads a recipe from text (tests and embedded recipes); the name stands for the file in messages.</summary>
    /// <exception cref="ConfigException">The text is invalid, or an override is.</exception>
    public static RunConfig Parse(string yaml, IMethodSchema methods, string name = "config.yaml", IEnumerable<string>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(name);
        return Bind(ReadRoot(new StringReader(yaml), name), name, methods, overrides);
    }

    /// <summary>
    /// A method and its options from texts such as "temperature=2", "scales=[1, 2]" or "base=dkd" (a "method."
    /// prefix is optional), read by the same code as a recipe's method section and its --set overrides, so a
    /// bad option gives the same message (e.g. "override --set method.temperature=abc: method.temperature is
    /// 'abc'; expected a finite number &gt;= 1E-09").
    /// </summary>
    /// <param name="methods">The methods and their options.</param>
    /// <param name="name">The method's name.</param>
    /// <param name="options">"key=value" texts, applied in order.</param>
    /// <exception cref="ConfigException">The method, an option key or a value is unknown or malformed.</exception>
    public static MethodConfig ParseMethod(IMethodSchema methods, string name, IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        var root = new YamlMappingNode();
        var origins = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        foreach (var o in options.Select(o => o.StartsWith("method.", StringComparison.Ordinal) ? o : "method." + o).Prepend($"method.name={name}"))
        {
            ApplyOverride(root, o, origins);
        }

        return Method(new Section(name, "", root, origins, ["method"]), methods).Config;
    }

    /// <summary>
    /// The root node of a recipe (an empty mapping for an empty document); a root that is not a mapping is an error at its position.
    /// </summary>
    private static YamlMappingNode ReadFile(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return ReadRoot(reader, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot be read: {e.Message}", e);
        }
    }

    private static YamlMappingNode ReadRoot(TextReader reader, string path)
    {
        try
        {
            return ReadYaml(reader, mark => $"{path}:{mark.Line}:{mark.Column}") switch
            {
                null => new YamlMappingNode(),
                YamlMappingNode map => map,
                var other => throw new ConfigException($"{path}:{other.Start.Line}:{other.Start.Column}: the config must be a mapping of sections (data, student, teacher, method, train, task, output)"),
            };
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this (without a position) on some unclosed flow collections, e.g. "key: [a" then a new key.
            throw new ConfigException($"{path}: not valid YAML (an unclosed '[' or '{{'?): {e.Message}", e);
        }
    }

    /// <summary>Applies <paramref name="overrides"/> to the recipe's root, then reads every section.</summary>
    private static RunConfig Bind(YamlMappingNode root, string path, IMethodSchema methods, IEnumerable<string>? overrides)
    {
        ArgumentNullException.ThrowIfNull(methods);
        var origins = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        foreach (var o in overrides ?? [])
        {
            ApplyOverride(root, o, origins);
        }

        return Bind(new Section(path, "", root, origins, [.. RecipeSchema.Sections]), methods);
    }

    private static RunConfig Bind(Section root, IMethodSchema methods)
    {
        var data = Child(root, "data");
        var student = Child(root, "student");
        var teacher = Child(root, "teacher");
        var (method, spec) = Method(root, methods);
        var train = Child(root, "train");
        var config = new RunConfig { Teacher = teacher is null ? null : new ModelConfig() };
        config = Read(root, data, "data", config);
        if (DatasetCatalog.NeedsRoot(config.Data.Dataset) && config.Data.Root is null)
        {
            throw data!.Error("dataset", DatasetCatalog.MissingRoot(config.Data.Dataset));
        }

        config = Read(root, student, "student", config);
        config = Read(root, teacher, "teacher", config);
        config = config with { Method = method };
        config = Read(root, train, "train", config);
        if (train is not null)
        {
            CheckTrain(train, config.Train);
        }

        config = Read(root, root, string.Empty, config);
        if (spec?.Tasks is { } tasks && !tasks.Contains(config.Task))
        {
            var message = $"method.name: '{config.Method.Name}' applies to {string.Join(" and ", tasks)}, not to task '{config.Task}' (`distill methods` lists each method's tasks)";
            throw root.Child("method", null) is { } section ? section.Error("name", message) : root.Error("task", message);
        }

        if (spec is { NeedsTeacher: true } && config.Teacher?.Checkpoint is null)
        {
            throw root.Error("method", $"method '{config.Method.Name}' needs teacher.model and teacher.checkpoint (train one with `distill teacher`)");
        }

        return config;
    }

    /// <summary>A section of the schema, with its keys as the allowed ones (null when the recipe has none).</summary>
    private static Section? Child(Section root, string name) => root.Child(name, [.. RecipeSchema.KeysOf(name).Select(k => k.Name)]);

    /// <summary>
    /// Sets every key of <paramref name="name"/> that <paramref name="section"/> gives (the rest keep the records'
    /// defaults), then refuses, at the key's line, a name outside a list's allowed ones, a value its own check refuses, and a
    /// key given where it does not apply. A required key that is missing is an error at the section (or the file).
    /// </summary>
    private static RunConfig Read(Section root, Section? section, string name, RunConfig config)
    {
        foreach (var key in RecipeSchema.KeysOf(name))
        {
            var value = section is null ? null : Value(section, key);
            if (value is not null)
            {
                config = key.Set(config, value);
            }
            else if (key.Required is not null && (section is not null || key.Get(new RunConfig()) is not null))
            {
                // A section that a recipe may leave out (teacher: null in a new RunConfig) requires its keys only when given.
                throw root.Error(name, $"{key.Path} {key.Required}");
            }
        }

        foreach (var key in RecipeSchema.KeysOf(name).Where(k => section?.Has(k.Name) == true))
        {
            var value = key.Get(config)!;
            if (key.Kind == RecipeKeyKind.NameList && key.Allowed.Count > 0 && ((IEnumerable<string>)value).FirstOrDefault(n => !key.Allowed.Contains(n)) is { } unknown)
            {
                throw section!.Error(key.Name, $"{key.Path}: '{unknown}' is not one of {string.Join(", ", key.Allowed)}");
            }

            if (key.Check?.Invoke(value) is { } message)
            {
                throw section!.Error(key.Name, message);
            }

            if (key.AppliesWhen is { Refused: true } when && !when.Holds(config))
            {
                throw section!.Error(key.Name, when.Refusal(config));
            }
        }

        return config;
    }

    /// <summary>One key's value as its kind reads it; null when the section does not give it.</summary>
    private static object? Value(Section section, RecipeKey key) => key.Kind switch
    {
        RecipeKeyKind.Integer => section.Int(key.Name, double.IsFinite(key.Minimum) ? (int)key.Minimum : int.MinValue),
        RecipeKeyKind.Number => section.Double(key.Name, key.Minimum, key.Maximum),
        RecipeKeyKind.Boolean => section.Bool(key.Name),
        RecipeKeyKind.Choice => section.String(key.Name, [.. key.Allowed]),
        RecipeKeyKind.Folder => section.NonEmptyString(key.Name),
        RecipeKeyKind.Device => section.String(key.Name) is { } text ? DeviceText(section, key, text) : null,
        RecipeKeyKind.IntegerList => section.IntList(key.Name),
        RecipeKeyKind.NumberList => section.DoubleList(key.Name),
        RecipeKeyKind.NameList => section.StringList(key.Name),
        _ => section.String(key.Name),
    };

    /// <summary>"cuda" as "cuda:0"; text that names no device is an error at the key's line.</summary>
    private static string DeviceText(Section section, RecipeKey key, string text)
    {
        try
        {
            return Torch.Device.Parse(text).ToString();
        }
        catch (FormatException e)
        {
            throw section.Error(key.Name, $"{key.Path}: {e.Message}");
        }
    }

    /// <summary>The method section: the name (one of the schema's), then the options that method takes, each read as its kind says.</summary>
    private static (MethodConfig Config, MethodSpec? Spec) Method(Section root, IMethodSchema methods)
    {
        var name = root.Child("method", null)?.String("name", [.. methods.Names]) ?? "none";
        var spec = methods.Find(name);
        var section = root.Child("method", ["name", .. spec?.Keys ?? []]);
        return (new MethodConfig { Name = name, Options = section is null || spec is null ? new Dictionary<string, object>() : MethodOptions(section, spec) }, spec);
    }

    private static Dictionary<string, object> MethodOptions(Section section, MethodSpec spec)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var option in spec.Options)
        {
            // The key or one alias (the official name); an override (--set, --flag) replaces the recipe's own spelling.
            var given = option.Keys.Where(section.Has).ToArray();
            if (given.Length > 1 && given.Count(section.FromOverride) == 1)
            {
                given = [.. given.Where(section.FromOverride)];
            }

            if (given.Length > 1)
            {
                throw section.Error(given[1], $"method.{given[0]} and method.{given[1]} are the same option ({option.DisplayName}); give one");
            }

            var key = given.Length == 1 ? given[0] : option.Key;
            object? value = option.Kind switch
            {
                OptionKind.Number => section.Double(key, option.Minimum),
                OptionKind.Integer => section.Int(key, double.IsNegativeInfinity(option.Minimum) ? int.MinValue : (int)option.Minimum),
                OptionKind.Boolean => section.Bool(key),
                OptionKind.Choice => section.String(key, [.. option.Allowed]),
                OptionKind.Text => section.String(key),
                OptionKind.IntegerList => section.IntList(key),
                OptionKind.NumberList => section.DoubleList(key),
                _ => section.StringList(key),
            };
            if (value is not null)
            {
                values[option.Key] = value;
            }
        }

        return values;
    }

    /// <summary>The train keys' combinations that cannot run, refused at their key (each key's own checks are the schema's).</summary>
    private static void CheckTrain(Section train, TrainConfig config)
    {
        if (config.Nesterov && config.Momentum <= 0)
        {
            throw train.Error("nesterov", "train.nesterov needs a train.momentum above 0");
        }

        if (train.Has("warmup_epochs") && train.Has("warmup_iters"))
        {
            throw train.Error("warmup_iters", "give train.warmup_epochs or train.warmup_iters, not both");
        }

        if (config.WarmupIters > 0 && config.StepPer != "iteration")
        {
            throw train.Error("warmup_iters", "train.warmup_iters needs train.step_per: iteration (use warmup_epochs for a per-epoch schedule)");
        }

        if ((config.WarmupEpochs > 0 || config.WarmupIters > 0) && config.Schedule == "onecycle")
        {
            throw train.Error(config.WarmupEpochs > 0 ? "warmup_epochs" : "warmup_iters", "the onecycle schedule warms up by itself (its first 30% of steps); drop the warm-up");
        }

        if (config.WarmupEpochs >= config.Epochs)
        {
            throw train.Error("warmup_epochs", $"train.warmup_epochs ({config.WarmupEpochs}) must be shorter than train.epochs ({config.Epochs})");
        }
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

        // The value and, for a list, every item: a bad item is reported at the override, not at a line of the file.
        foreach (var part in parsed.AllNodes)
        {
            origins[part] = text;
        }
    }

    private static YamlNode ParseFlow(string value, string text) =>
        ReadYaml(new StringReader(value), mark => $"override '{text}': '{value}' is not a YAML list (column {mark.Column})") ?? new YamlScalarNode(string.Empty);

    /// <summary>
    /// The root node of the first document (null when there is none). Every failure of the YAML library,
    /// whatever its type, becomes a <see cref="ConfigException"/> at <paramref name="where"/>'s line and column,
    /// and nesting deeper than <see cref="MaxNesting"/> is refused before the library builds (recursively) its nodes.
    /// </summary>
    private static YamlNode? ReadYaml(TextReader reader, Func<Mark, string> where)
    {
        var scanner = new Scanner(reader);
        var parser = new CheckingParser(new Parser(scanner), where);
        try
        {
            var stream = new YamlStream();
            stream.Load(parser);
            if (stream.Documents.Count > 1)
            {
                throw new ConfigException($"{where(stream.Documents[1].RootNode.Start)}: a recipe is one YAML document; a second one begins here");
            }

            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            // The library marks the problem at End and the construct it was reading from Start; some errors carry no mark.
            var at = e.End.Equals(Mark.Empty) ? scanner.CurrentPosition : e.End;
            var begins = !e.Start.Equals(Mark.Empty) && e.Start.Line != at.Line ? $" (it begins at line {e.Start.Line}, column {e.Start.Column})" : string.Empty;
            throw new ConfigException($"{where(at)}: not valid YAML: {YamlMessage(e)}{begins}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigException($"{where(scanner.CurrentPosition)}: not valid YAML: the structure breaks here (is a '[', '{{' or quote above left unclosed?)", e);
        }
        catch (Exception e) when (e is not ConfigException and not OutOfMemoryException)
        {
            throw new ConfigException($"{where(scanner.CurrentPosition)}: not valid YAML: {e.Message}", e);
        }
    }

    /// <summary>The library's message without its "(Line: l, Col: c, Idx: i) - (...): " prefix (the location is given separately).</summary>
    private static string YamlMessage(YamlException e)
    {
        var message = e.Message;
        var prefix = message.IndexOf("): ", StringComparison.Ordinal);
        return (message.StartsWith("(Line:", StringComparison.Ordinal) && prefix >= 0 ? message[(prefix + 3)..] : message).ReplaceLineEndings(" ");
    }

    /// <summary>
    /// A parser that remembers where it is, refuses a key given twice in one mapping, and refuses sequences and
    /// mappings nested too deep (before the library builds its nodes, recursively).
    /// </summary>
    private sealed class CheckingParser(IParser inner, Func<Mark, string> where) : IParser
    {
        // One frame per open collection: the keys of a mapping so far (null for a sequence) and whether a key comes next.
        private readonly Stack<(Dictionary<string, Mark>? Keys, bool ExpectKey)> _open = new();
        private readonly HashSet<string> _anchors = new(StringComparer.Ordinal);

        public ParsingEvent? Current => inner.Current;

        /// <summary>The start of the last event read.</summary>
        public Mark Position { get; private set; } = Mark.Empty;

        public bool MoveNext()
        {
            if (!inner.MoveNext())
            {
                return false;
            }

            var current = inner.Current!;
            Position = current.Start;
            if (current is AnchorAlias alias && !_anchors.Contains(alias.Value.Value))
            {
                throw new ConfigException($"{where(alias.Start)}: not valid YAML: the alias '*{alias.Value.Value}' refers to no anchor '&{alias.Value.Value}' above it");
            }

            if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
            {
                _anchors.Add(anchored.Anchor.Value);
            }

            if (current is Scalar or AnchorAlias or SequenceStart or MappingStart && _open.TryPop(out var frame))
            {
                if (frame.Keys is not null && frame.ExpectKey && current is Scalar key && !frame.Keys.TryAdd(key.Value, key.Start))
                {
                    throw new ConfigException($"{where(key.Start)}: not valid YAML: the key '{key.Value}' is given twice in one mapping (first on line {frame.Keys[key.Value].Line})");
                }

                _open.Push((frame.Keys, frame.Keys is not null && !frame.ExpectKey));
            }

            if (current is SequenceStart or MappingStart)
            {
                if (_open.Count >= MaxNesting)
                {
                    throw new ConfigException($"{where(current.Start)}: not valid YAML: lists and mappings are nested more than {MaxNesting} levels deep");
                }

                _open.Push((current is MappingStart ? new Dictionary<string, Mark>(StringComparer.Ordinal) : null, true));
            }
            else if (current is SequenceEnd or MappingEnd)
            {
                _open.TryPop(out _);
            }

            return true;
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

        // Every number of a recipe is finite: "Infinity", "1e400" (which parses as infinity) and "NaN" are refused.
        public double? Double(string key, double min, double max = double.PositiveInfinity)
        {
            var (node, text) = Scalar(key);
            if (text is null)
            {
                return null;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v < min || v > max)
            {
                var range = (double.IsNegativeInfinity(min), double.IsPositiveInfinity(max)) switch
                {
                    (true, true) => string.Empty,
                    (false, true) => $" >= {min.ToString(CultureInfo.InvariantCulture)}",
                    (true, false) => $" <= {max.ToString(CultureInfo.InvariantCulture)}",
                    _ => $" in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]",
                };
                throw new ConfigException($"{Where(node!)}: {Qualified(key)} is '{text}'; expected a finite number{range}");
            }

            return v;
        }

        public string? NonEmptyString(string key)
        {
            var (node, text) = Scalar(key);
            return text is null || text.Trim().Length > 0 ? text : throw new ConfigException($"{Where(node!)}: {Qualified(key)} is empty; give a folder");
        }

        public bool? Bool(string key)
        {
            var (node, text) = Scalar(key);
            return text switch
            {
                null => null,
                "true" or "True" or "yes" or "1" => true,
                "false" or "False" or "no" or "0" => false,
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

        public bool Has(string key) => _node.Children.ContainsKey(new YamlScalarNode(key));

        public bool FromOverride(string key) => _node.Children.TryGetValue(new YamlScalarNode(key), out var node) && _origins.ContainsKey(node);

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

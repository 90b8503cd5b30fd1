using System.Globalization;
using System.Text;
using Distill.Configs;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Methods;

/// <summary>
/// The parity harness behind `distill check`: runs one method on tensors from a safetensors file and writes
/// every weighted term, the total and their gradients, so a PyTorch port can be compared number by number.
/// <para>
/// Inputs: student.logits [B, K] Float32, labels [B] Int64, teacher.logits [B, K] (methods with a teacher),
/// feature maps student.&lt;tap&gt; / teacher.&lt;tap&gt; (tap names as the models publish them: stage1,
/// stage2.preact, ...), the classifiers student.head.weight / .bias and teacher.head.weight / .bias (SDD),
/// the teacher's BN before a stage's ReLU as teacher.&lt;stage&gt;.bn.weight / .bias (OFD margins), the training
/// set's labels as dataset.labels [N] Int64 with the batch's sample indices as indices [B] Int64 (CRD), values
/// for the method's parameters as method.&lt;name&gt; (absent ones are initialised as the method does, from
/// the seed), and random draws as random.&lt;name&gt;. The shapes of the given maps build the method (align
/// convs and regressors follow them).
/// </para>
/// <para>
/// Output: loss.&lt;term&gt; for every weighted term, loss.total, grad.student.&lt;name&gt; for every student
/// input (logits, taps, head), grad.method.&lt;name&gt; for every method parameter, and random.&lt;name&gt; for every
/// random draw the step used (given, or sampled from the seed: feed them to the PyTorch side to compare).
/// </para>
/// </summary>
public static class MethodCheck
{
    private const string Head = "head.";
    private const string BatchNorm = ".bn.";

    /// <summary>Parses a method name and option overrides such as "temperature=2" (or "method.temperature=2").</summary>
    /// <exception cref="ConfigException">The method or an option is unknown or malformed.</exception>
    public static MethodConfig Options(string method, IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(options);
        if (MethodFactory.Find(method) is null)
        {
            throw new ConfigException($"--method '{method}' is not one of {string.Join(", ", MethodFactory.Descriptors.Select(d => d.Name))}");
        }

        var recipe = "student:\n  model: resnet8\nteacher:\n  model: resnet8\n  checkpoint: unused\n";
        var overrides = new List<string> { $"method.name={method}" };
        overrides.AddRange(options.Select(o => o.StartsWith("method.", StringComparison.Ordinal) ? o : "method." + o));
        return ConfigLoader.Parse(recipe, "options", overrides).Method;
    }

    /// <summary>
    /// The context `--describe` shows shapes for when no inputs are given: student resnet8 and teacher resnet20
    /// on 3×32×32 images with 100 classes, a CIFAR-100-sized training set (50,000 samples).
    /// </summary>
    public static MethodContext ExampleContext()
    {
        var options = new ModelOptions(100, 3, 32);
        using var student = ModelRegistry.Create("resnet8", options);
        using var teacher = ModelRegistry.Create("resnet20", options);
        return MethodContext.FromModels(student, teacher, options, Enumerable.Range(0, 50000).Select(i => i % 100).ToArray());
    }

    /// <summary>The context that the tensors of a check input file describe (tap shapes, teacher BN).</summary>
    public static MethodContext ContextFrom(SafeTensorsFile inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Dictionary<string, long[]> Taps(string side) => inputs.Tensors
            .Where(t => t.Key.StartsWith(side + ".", StringComparison.Ordinal))
            .Select(t => (Name: t.Key[(side.Length + 1)..], t.Value.Shape))
            .Where(t => !t.Name.StartsWith(Head, StringComparison.Ordinal) && !t.Name.Contains(BatchNorm, StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        var norms = new List<(double[], double[])>();
        for (var stage = 1; inputs.Tensors.TryGetValue($"teacher.stage{stage}.bn.weight", out var weight) && inputs.Tensors.TryGetValue($"teacher.stage{stage}.bn.bias", out var bias); stage++)
        {
            norms.Add((weight.To(DType.Float64).ToArray<double>(), bias.To(DType.Float64).ToArray<double>()));
        }

        var teacher = Taps("teacher");
        var labels = inputs.Tensors.TryGetValue("dataset.labels", out var all) ? all.To(DType.Int64).ToArray<long>().Select(l => (int)l).ToArray() : null;
        return new MethodContext(Taps("student"), teacher.Count > 0 ? teacher : null, norms) { DatasetLabels = labels };
    }

    /// <summary>Builds the method for <paramref name="context"/>.</summary>
    /// <exception cref="ConfigException">The method, an option, or the context does not fit.</exception>
    public static Distiller Create(MethodConfig method, MethodContext context) =>
        MethodFactory.Create(method, context) ?? throw new ConfigException("method 'none' has nothing to check");

    /// <summary>What the method expects: inputs (with the shapes of <paramref name="distiller"/>'s context), parameters, draws and options.</summary>
    public static string Describe(Distiller distiller, MethodContext context)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        ArgumentNullException.ThrowIfNull(context);
        var descriptor = MethodFactory.Find(distiller.Name)!;
        using var scope = DisposeScope.Enter();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"method {distiller.Name}: {descriptor.Title} ({descriptor.Paper})\n");
        sb.Append("inputs (shapes as for student resnet8, teacher resnet20, 3x32x32, K = 100 unless your file says otherwise):\n");
        sb.Append("  student.logits [B, K] Float32\n  labels [B] Int64\n");
        if (distiller.NeedsTeacher)
        {
            sb.Append("  teacher.logits [B, K] Float32\n");
        }

        foreach (var tap in distiller.StudentTaps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  student.{tap} {Example(context.StudentShape(tap))} Float32\n");
        }

        foreach (var tap in distiller.TeacherTaps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  teacher.{tap} {Example(context.TeacherShape(tap))} Float32\n");
        }

        if (distiller.UsesHeads)
        {
            sb.Append("  student.head.weight [K, C_s], student.head.bias [K], teacher.head.weight [K, C_t], teacher.head.bias [K] Float32 (the classifiers)\n");
        }

        if (distiller.UsesSampleIndices)
        {
            sb.Append("  indices [B] Int64 (the samples' data-set indices), dataset.labels [N] Int64 (the training set's labels)\n");
        }

        foreach (var stage in distiller.TeacherBatchNormStages)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  teacher.{stage}.bn.weight [C_t], teacher.{stage}.bn.bias [C_t] Float32 (the teacher's BN before the stage's ReLU)\n");
        }

        sb.Append("parameters and buffers (method.<name>, optional; else initialised as the method does):\n");
        var parameters = distiller.NamedParameters().Concat(distiller.NamedBuffers()).ToArray();
        foreach (var (name, t) in parameters)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {name} {Tensor.FormatShape(t.Shape)} {t.DType}\n");
        }

        if (parameters.Length == 0)
        {
            sb.Append("  none\n");
        }

        sb.Append("random draws (random.<name>, optional):\n");
        foreach (var draw in distiller.RandomDraws.DefaultIfEmpty("none"))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {draw}\n");
        }

        sb.Append("options (--set key=value):\n");
        foreach (var option in descriptor.Options)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {option.Key} = {(option.FormatDefault() is { Length: > 0 } d ? d : "\"\"")}: {option.Description}\n");
        }

        return sb.ToString();
    }

    /// <summary>Runs the check on the tensors of <paramref name="inputsPath"/> and writes <paramref name="outputPath"/>.</summary>
    /// <exception cref="CheckpointFormatException">An input tensor is missing or has the wrong shape or dtype; the message names it.</exception>
    /// <exception cref="ConfigException">The method or an option is unknown.</exception>
    public static IReadOnlyDictionary<string, double> Run(MethodConfig method, string inputsPath, string outputPath, int epoch = 1, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        using var scope = DisposeScope.Enter();
        using var inputs = SafeTensors.Load(inputsPath, device);
        Distiller distiller;
        try
        {
            distiller = Create(method, ContextFrom(inputs));
        }
        catch (ConfigException e)
        {
            throw new CheckpointFormatException($"{inputsPath}: {e.Message} (feature maps are given as student.<tap> and teacher.<tap> tensors)", e);
        }

        using (distiller)
        {
            distiller.To(device ?? Device.Cpu);
            return Run(distiller, inputs, inputsPath, outputPath, epoch);
        }
    }

    private static Dictionary<string, double> Run(Distiller distiller, SafeTensorsFile inputs, string inputsPath, string outputPath, int epoch)
    {
        var student = Require(inputs, inputsPath, "student.logits", DType.Float32, "[B, K]", dims: 2);
        Tensor? teacher = null;
        if (distiller.NeedsTeacher)
        {
            teacher = Require(inputs, inputsPath, "teacher.logits", DType.Float32, "[B, K]", dims: 2);
            if (!teacher.Shape.SequenceEqual(student.Shape))
            {
                throw new CheckpointFormatException($"{inputsPath}: teacher.logits {Tensor.FormatShape(teacher.Shape)} must match student.logits {Tensor.FormatShape(student.Shape)} ([B, K])");
            }
        }

        var labels = Require(inputs, inputsPath, "labels", DType.Int64, "[B]", dims: 1);
        if (labels.Size(0) != student.Size(0))
        {
            throw new CheckpointFormatException($"{inputsPath}: labels {Tensor.FormatShape(labels.Shape)} must have one label per row of student.logits {Tensor.FormatShape(student.Shape)}");
        }

        var indices = inputs.Tensors.TryGetValue("indices", out var given) ? given : labels;
        LoadParameters(distiller, inputs, inputsPath);
        LoadDraws(distiller, inputs, inputsPath);
        distiller.RecordRandomDraws();
        var studentInputs = new List<(string Name, Tensor Value)> { ("logits", student.Detach().RequireGrad()) };
        var studentMaps = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var tap in distiller.StudentTaps)
        {
            var map = Require(inputs, inputsPath, $"student.{tap}", DType.Float32, "a feature map", dims: -1).Detach().RequireGrad();
            studentMaps[tap] = map;
            studentInputs.Add((tap, map));
        }

        var teacherMaps = distiller.TeacherTaps.ToDictionary(tap => tap, tap => Require(inputs, inputsPath, $"teacher.{tap}", DType.Float32, "a feature map", dims: -1), StringComparer.Ordinal);
        Func<Tensor, Tensor>? studentHead = null;
        Func<Tensor, Tensor>? teacherHead = null;
        if (distiller.UsesHeads)
        {
            var weight = Require(inputs, inputsPath, "student.head.weight", DType.Float32, "[K, C]", dims: 2).Detach().RequireGrad();
            var bias = Require(inputs, inputsPath, "student.head.bias", DType.Float32, "[K]", dims: 1).Detach().RequireGrad();
            studentInputs.Add(("head.weight", weight));
            studentInputs.Add(("head.bias", bias));
            studentHead = x => F.Linear(x, weight, bias);
            var teacherWeight = Require(inputs, inputsPath, "teacher.head.weight", DType.Float32, "[K, C]", dims: 2);
            var teacherBias = Require(inputs, inputsPath, "teacher.head.bias", DType.Float32, "[K]", dims: 1);
            teacherHead = x => F.Linear(x, teacherWeight, teacherBias);
        }

        distiller.OnEpochStart(epoch, epoch);
        distiller.ZeroGrad();
        LossTerms terms;
        try
        {
            terms = distiller.ComputeLoss(new DistillationInputs(studentInputs[0].Value, teacher, labels, indices,
                new FeatureMaps(studentMaps, "student"), new FeatureMaps(teacherMaps, "teacher"), epoch)
            {
                StudentHead = studentHead,
                TeacherHead = teacherHead,
            });
        }
        catch (TorchException e)
        {
            throw new CheckpointFormatException($"{inputsPath}: the inputs do not fit {distiller.Name}: {e.Message}", e);
        }

        var total = terms.Total();
        total.Backward();
        var output = new List<KeyValuePair<string, Tensor>>();
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in terms.Terms)
        {
            output.Add(new($"loss.{name}", value.Detach()));
            values[name] = value.To(DType.Float64).Item<double>();
        }

        output.Add(new("loss.total", total.Detach()));
        values["total"] = total.To(DType.Float64).Item<double>();
        foreach (var (name, value) in studentInputs)
        {
            output.Add(new($"grad.student.{name}", value.Grad ?? value.ZerosLike()));
        }

        foreach (var (name, p) in distiller.NamedParameters())
        {
            output.Add(new($"grad.method.{name}", p.Grad ?? p.ZerosLike()));
        }

        // The draws the step used (given or sampled from --seed), so a PyTorch port can replay them.
        foreach (var (name, draw) in distiller.RecordedDraws)
        {
            output.Add(new($"random.{name}", draw));
        }

        SafeTensors.Save(outputPath, output, new Dictionary<string, string> { ["method"] = distiller.Name, ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture) });
        return values;
    }

    private static void LoadParameters(Distiller distiller, SafeTensorsFile inputs, string path)
    {
        var parameters = distiller.NamedParameters().Concat(distiller.NamedBuffers()).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        var given = inputs.Tensors.Where(t => t.Key.StartsWith("method.", StringComparison.Ordinal)).ToDictionary(t => t.Key[7..], t => t.Value, StringComparer.Ordinal);
        foreach (var (name, value) in given)
        {
            if (!parameters.TryGetValue(name, out var p))
            {
                throw new CheckpointFormatException($"{path}: method.{name} is not a parameter or buffer of {distiller.Name} (parameters and buffers: {string.Join(", ", parameters.Keys.DefaultIfEmpty("none"))})");
            }

            if (!p.Shape.SequenceEqual(value.Shape) || p.DType != value.DType)
            {
                throw new CheckpointFormatException($"{path}: method.{name} is {Tensor.FormatShape(value.Shape)} {value.DType}, expected {Tensor.FormatShape(p.Shape)} {p.DType}");
            }
        }

        distiller.LoadStateDict(given, strict: false);
    }

    private static void LoadDraws(Distiller distiller, SafeTensorsFile inputs, string path)
    {
        var names = distiller.RandomDraws.Select(d => d.Split(' ')[0]).ToArray();
        var draws = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in inputs.Tensors.Where(t => t.Key.StartsWith("random.", StringComparison.Ordinal)))
        {
            var name = key[7..];
            draws[name] = names.Contains(name)
                ? value
                : throw new CheckpointFormatException($"{path}: {key} is not a random draw of {distiller.Name} (draws: {string.Join(", ", names.DefaultIfEmpty("none"))})");
        }

        distiller.OverrideRandomDraws(draws);
    }

    private static string Example(long[] shape) => "[B, " + string.Join(", ", shape.Skip(1)) + "]";

    private static Tensor Require(SafeTensorsFile file, string path, string name, DType dtype, string expected, int dims)
    {
        if (!file.Tensors.TryGetValue(name, out var t))
        {
            throw new CheckpointFormatException($"{path}: tensor '{name}' is missing (expected {expected} {dtype})");
        }

        if (t.DType != dtype || (dims >= 0 && t.Dim != dims))
        {
            throw new CheckpointFormatException($"{path}: tensor '{name}' is {Tensor.FormatShape(t.Shape)} {t.DType}, expected {expected} {dtype}");
        }

        return t;
    }
}

using System.Globalization;
using System.Text;
using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.Models.Detection;
using Distill.Models.Segmentation;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Tasks;
using Distill.Tasks.Detection;
using Distill.Torch;
using F = Distill.Torch.Functional;

namespace Distill.Parity;

/// <summary>
/// The parity harness behind `distill check`: runs one method on tensors from a safetensors file and writes
/// every weighted term, the total and their gradients, so a PyTorch port can be compared number by number.
/// <para>
/// Inputs: student.logits [B, K] Float32, labels [B] Int64, teacher.logits [B, K] (methods with a teacher); for a
/// segmentation step logit maps [B, K, h, w] and masks [B, H, W] Int64 (class indices or 255, ignored) instead of labels
/// (the segmentation task's pixel cross-entropy then, the logits resized to H×W as in training, and the tap "logits" is
/// student.logits / teacher.logits); for a detection step a detector's outputs [B, L, K + 5] and the ground-truth boxes
/// as padded tensors instead of labels: boxes [B, M, 4] Float32 (x1, y1, x2, y2 in input pixels), box_labels [B, M] Int64,
/// box_crowd [B, M] Int64 (1: a crowd / ignore region), box_counts [B] Int64 (image i's boxes are its first counts[i]
/// rows) and image_sizes [B, 2] Int64 (height, width before padding), and the detection task's terms (focal, box,
/// centerness) are computed over the levels of an input of the largest height and width of image_sizes: those of the
/// det_scene pair (strides 4, 8, 16) unless levels.strides [n] Int64 and levels.scale_ranges [n, 2] Float32 give others,
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
/// random draw the step used (given, or sampled from the seed: feed them to the PyTorch side to compare). A method
/// with an own optimizer (<see cref="IHasOwnOptimizer"/>, a discriminator) also gets loss.&lt;term&gt; for each own
/// term (computed after the student's terms, on the detached student inputs; not part of loss.total) and
/// grad.own.&lt;name&gt;, the own loss's gradient for each own parameter.
/// </para>
/// </summary>
public static class MethodCheck
{
    private const string Head = "head.";
    private const string BatchNorm = ".bn.";
    private const string LevelStrides = "levels.strides";
    private const string LevelScaleRanges = "levels.scale_ranges";

    /// <summary>
    /// Parses a method name and options such as "temperature=2" (or "method.temperature=2"), with the recipe loader's
    /// option reader (<see cref="Recipes.Method"/>): the same keys, aliases, bounds and messages as a recipe's --set.
    /// </summary>
    /// <exception cref="ConfigException">The method or an option is unknown or malformed.</exception>
    public static MethodConfig Options(string method, IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(options);
        if (MethodFactory.Find(method) is null)
        {
            throw new ConfigException($"--method '{method}' is not one of {string.Join(", ", MethodFactory.Descriptors.Select(d => d.Name))}");
        }

        return Recipes.Method(method, options);
    }

    /// <summary>
    /// The context `--describe` shows shapes for when no inputs are given and the method applies to classification:
    /// student resnet8 and teacher resnet20 on 3×32×32 images with 100 classes, a CIFAR-100-sized training set (50,000 samples).
    /// </summary>
    public static MethodContext ExampleContext() => ExampleContext(MethodDescriptor.Classification);

    /// <summary>
    /// The context `--describe` shows shapes for on <paramref name="task"/> (a method's first task,
    /// <see cref="MethodDescriptor.AppliesTo"/>): <see cref="ExampleContext()"/> for classification; for segmentation
    /// student scene_student and teacher scene_teacher on 1×64×64 scenes with 11 classes (8×8 logit maps).
    /// </summary>
    /// <exception cref="ArgumentException">The task is not classification, segmentation or detection.</exception>
    public static MethodContext ExampleContext(string task)
    {
        if (task == MethodDescriptor.Detection)
        {
            return new MethodContext(DetectionExampleShapes(student: true), DetectionExampleShapes(student: false));
        }

        var (options, student, teacher, labels) = ExampleModels(task);
        using (student)
        using (teacher)
        {
            return MethodContext.FromModels(student, teacher, options, labels);
        }
    }

    /// <summary>
    /// The tap shapes of the CPU-sized FCOS pair (det_scene_student and det_scene_teacher, <see cref="DetectionModels"/>)
    /// from a dry run on one image of their default options (1x96x96, 10 classes), with "logits" the detector's outputs
    /// [1, L, K + 5] over the levels of that input: what a detection step's methods are described and built for without
    /// an inputs file.
    /// </summary>
    private static Dictionary<string, long[]> DetectionExampleShapes(bool student)
    {
        var name = student ? "det_scene_student" : "det_scene_teacher";
        var options = DetectionModels.DefaultOptions(name);
        using var detector = DetectionModels.Create(name, options);
        var shapes = detector.DryRun(options).ToDictionary(t => t.Tap, t => t.Shape, StringComparer.Ordinal);
        shapes["logits"] = [1, detector.Levels(options.Height, options.Width).Count, options.NumClasses + 5];
        return shapes;
    }

    /// <summary>The example networks of <see cref="ExampleContext(string)"/> (the caller disposes them).</summary>
    private static (ModelOptions Options, TappedModel<Tensor> Student, TappedModel<Tensor> Teacher, int[]? DatasetLabels) ExampleModels(string task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task == MethodDescriptor.Segmentation)
        {
            var scenes = SegmentationModels.DefaultOptions("scene_student");
            return (scenes, SegmentationModels.Create("scene_student", scenes), SegmentationModels.Create("scene_teacher", scenes), null);
        }

        if (task != MethodDescriptor.Classification)
        {
            throw new ArgumentException($"no example networks for the task '{task}' (tasks: {MethodDescriptor.Classification}, {MethodDescriptor.Segmentation}, {MethodDescriptor.Detection})", nameof(task));
        }

        var options = new ModelOptions(100, 3, 32);
        return (options, ModelRegistry.Create("resnet8", options), ModelRegistry.Create("resnet20", options), [.. Enumerable.Range(0, 50000).Select(i => i % 100)]);
    }

    /// <summary>The context that the tensors of a check input file describe (tap shapes, teacher BN, the training set's labels).</summary>
    public static MethodContext ContextFrom(SafeTensorsFile inputs) => CheckContext.From(inputs).Context;

    /// <summary>Builds the method for <paramref name="context"/>.</summary>
    /// <exception cref="ConfigException">The method, an option, or the context does not fit.</exception>
    public static Distiller Create(MethodConfig method, MethodContext context) => MethodBuilder.Create(method, context);

    /// <summary>
    /// What the method expects, for the shapes of <paramref name="inputsPath"/>'s tensors (or, without a file, of the
    /// example networks of the method's first task, <see cref="ExampleContext(string)"/>): every input with its shape and dtype,
    /// the parameters and buffers that follow from them, the random draws and the options. Feeding exactly the
    /// listed inputs to <see cref="Run(MethodConfig, string, string, int, Device?, int)"/> succeeds.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is unreadable or its tensors do not fit the method.</exception>
    /// <exception cref="ConfigException">The method or an option is unknown.</exception>
    public static string Describe(MethodConfig method, string? inputsPath = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        using var scope = DisposeScope.Enter();
        if (inputsPath is null)
        {
            // The method's first task: segmentation-only methods are described on logit maps and masks.
            var task = MethodFactory.Find(method.Name)?.AppliesTo.FirstOrDefault() ?? MethodDescriptor.Classification;
            var example = CheckContext.Example(task);
            using var distiller = Create(method, example.Context);
            return Describe(distiller, example, "(example)", $"inputs (shapes for {CheckContext.ExampleText(task)}; B is the batch size):\n");
        }

        using var inputs = SafeTensors.Load(inputsPath);
        var context = CheckInputs(inputs, inputsPath);
        using (var built = Build(method, context, inputsPath))
        {
            return Describe(built, context, inputsPath, $"inputs (shapes from {inputsPath}; B is the batch size):\n");
        }
    }

    private static string Describe(Distiller distiller, CheckContext context, string path, string inputsHeader)
    {
        var descriptor = MethodFactory.Find(distiller.Name)!;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"method {distiller.Name}: {descriptor.Title} ({descriptor.Paper})\n");
        sb.Append(inputsHeader);
        foreach (var input in Expected(distiller, context, path))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {input.Name} {FormatShape(input.Shape)} {input.DType}{(input.Note is null ? string.Empty : $" ({input.Note})")}\n");
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

        if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 } own)
        {
            var owned = new HashSet<Tensor>(own.OwnParameters, ReferenceEqualityComparer.Instance);
            var settings = own.OwnOptimizer;
            sb.Append(CultureInfo.InvariantCulture, $"own optimizer ({settings.Optimizer}, lr {settings.LearningRate:R}; its terms are written as loss.<term> beside loss.total, its gradients as grad.own.<name>):\n");
            sb.Append(CultureInfo.InvariantCulture, $"  {string.Join(", ", distiller.NamedParameters().Where(p => owned.Contains(p.Parameter)).Select(p => p.Name))}\n");
        }

        if (context.Detection)
        {
            sb.Append("the task's levels (optional; else the det_scene pair's, strides 4, 8, 16, for the largest of image_sizes):\n");
            sb.Append("  levels.strides [n] Int64 (increasing powers of two), levels.scale_ranges [n, 2] Float32 (each level's min and max of max(l, t, r, b))\n");
        }

        sb.Append("random draws (random.<name>, optional):\n");
        foreach (var draw in distiller.RandomDraws.DefaultIfEmpty("none"))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {draw}\n");
        }

        sb.Append("options (--set key=value):\n");
        foreach (var option in descriptor.Options)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {option.DisplayName} = {(option.FormatDefault() is { Length: > 0 } d ? d : "\"\"")}: {option.Description}\n");
        }

        return sb.ToString();
    }

    /// <summary>Runs the check on the tensors of <paramref name="inputsPath"/> and writes <paramref name="outputPath"/>.</summary>
    /// <param name="method">The method and its options.</param>
    /// <param name="inputsPath">The input tensors (see <see cref="Describe(MethodConfig, string?)"/>).</param>
    /// <param name="outputPath">Where the terms and gradients go.</param>
    /// <param name="epoch">The 1-based epoch, as the trainer counts (warm-ups and curricula).</param>
    /// <param name="device">Where the inputs and the method live (the CPU when null).</param>
    /// <param name="iteration">The 1-based iteration of the run (warm-ups in iterations), 0 when not known.</param>
    /// <exception cref="CheckpointFormatException">An input tensor is missing, unexpected, or has the wrong shape, dtype or values; the message names it and the expected shape.</exception>
    /// <exception cref="ConfigException">The method, an option, the epoch or the iteration is invalid.</exception>
    public static IReadOnlyDictionary<string, double> Run(MethodConfig method, string inputsPath, string outputPath, int epoch = 1, Device? device = null, int iteration = 0)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (epoch < 1)
        {
            throw new ConfigException($"--epoch is {epoch}; epochs count from 1, as in training");
        }

        if (iteration < 0)
        {
            throw new ConfigException($"--iteration is {iteration}; iterations count from 1 (0: not known)");
        }

        using var scope = DisposeScope.Enter();
        using var inputs = SafeTensors.Load(inputsPath, device);
        var context = CheckInputs(inputs, inputsPath);
        using var distiller = Build(method, context, inputsPath);
        distiller.To(device ?? Device.Cpu);
        return Run(distiller, context, inputs, inputsPath, outputPath, epoch, iteration);
    }

    /// <summary>Builds the method from the file's shapes; a configuration error names the file (and, for a missing tap, how taps are given).</summary>
    private static Distiller Build(MethodConfig method, CheckContext context, string inputsPath)
    {
        if (context.Dense && MethodFactory.Find(method.Name) is { } descriptor && !descriptor.AppliesTo.Contains(MethodDescriptor.Segmentation))
        {
            throw new CheckpointFormatException($"{inputsPath}: student.logits {Tensor.FormatShape(context.Student.Shapes["logits"])} are logit maps (a segmentation step), and {method.Name} applies to {string.Join(" and ", descriptor.AppliesTo)} only (`distill methods` lists each method's tasks)");
        }

        if (context.Detection && MethodFactory.Find(method.Name) is { } detector && !detector.AppliesTo.Contains(MethodDescriptor.Detection))
        {
            throw new CheckpointFormatException($"{inputsPath}: student.logits {Tensor.FormatShape(context.Student.Shapes["logits"])} are a detector's outputs [B, L, K + 5] (a detection step), and {method.Name} applies to {string.Join(" and ", detector.AppliesTo)} only (`distill methods` lists each method's tasks)");
        }

        try
        {
            return Create(method, context.Context);
        }
        catch (ConfigException e)
        {
            var hint = e.InnerException is KeyNotFoundException
                ? " (feature maps are given as student.<tap> and teacher.<tap> tensors, the teacher's BN as teacher.<stage>.bn.weight / .bias; see --describe)"
                : string.Empty;
            throw new CheckpointFormatException($"{inputsPath}: {e.Message}{hint}", e);
        }
        catch (TorchException e)
        {
            throw new CheckpointFormatException($"{inputsPath}: the inputs' shapes do not fit {method.Name}: {e.Message}", e);
        }
    }

    private static Dictionary<string, double> Run(Distiller distiller, CheckContext context, SafeTensorsFile inputs, string inputsPath, string outputPath, int epoch, int iteration)
    {
        var expected = Expected(distiller, context, inputsPath);
        CheckAgainst(expected, distiller, context, inputs, inputsPath);
        var student = inputs.Tensors["student.logits"];
        var teacher = distiller.NeedsTeacher ? inputs.Tensors["teacher.logits"] : null;
        var dense = context.Dense;
        var detection = context.Detection;
        IBatchTargets targets = detection ? Boxes(inputs) : dense ? new MaskBatch(inputs.Tensors["masks"]) : new ClassLabelBatch(inputs.Tensors["labels"]);
        var indices = distiller is IUsesSampleIndices ? inputs.Tensors["indices"] : dense || detection ? Tensor.Zeros([student.Size(0)], DType.Int64, student.Device) : inputs.Tensors["labels"];
        LoadParameters(distiller, inputs, inputsPath);
        LoadDraws(distiller, inputs, inputsPath);
        distiller.RecordRandomDraws();
        var studentInputs = new List<(string Name, Tensor Value)> { ("logits", student.Detach().RequireGrad()) };
        var studentMaps = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var tap in distiller.StudentTaps)
        {
            if (tap == "logits")
            {
                // A segmenter's logit maps as a tap: the same leaf as student.logits (one gradient, grad.student.logits).
                studentMaps[tap] = studentInputs[0].Value;
                continue;
            }

            var map = inputs.Tensors[$"student.{tap}"].Detach().RequireGrad();
            studentMaps[tap] = map;
            studentInputs.Add((tap, map));
        }

        var teacherMaps = distiller.TeacherTaps.ToDictionary(tap => tap, tap => inputs.Tensors[$"teacher.{tap}"], StringComparer.Ordinal);
        Func<Tensor, Tensor>? studentHead = null;
        Func<Tensor, Tensor>? teacherHead = null;
        if (distiller is IUsesClassifierHeads)
        {
            var weight = inputs.Tensors["student.head.weight"].Detach().RequireGrad();
            var bias = inputs.Tensors["student.head.bias"].Detach().RequireGrad();
            studentInputs.Add(("head.weight", weight));
            studentInputs.Add(("head.bias", bias));
            studentHead = x => F.Linear(x, weight, bias);
            var teacherWeight = inputs.Tensors["teacher.head.weight"];
            var teacherBias = inputs.Tensors["teacher.head.bias"];
            teacherHead = x => F.Linear(x, teacherWeight, teacherBias);
        }

        distiller.OnEpochStart(epoch, epoch);
        distiller.ZeroGrad();
        LossTerms terms;
        var stepInputs = new DistillationInputs(studentInputs[0].Value, teacher, targets, indices,
            new FeatureMaps(studentMaps, "student"), new FeatureMaps(teacherMaps, "teacher"), epoch)
        {
            StudentHead = studentHead,
            TeacherHead = teacherHead,
            Iteration = iteration,
        };
        try
        {
            // As in training: the task's terms ("ce"; "focal", "box", "centerness") first, then the method's distillation terms.
            terms = detection ? DetectionTask.Default.ForLevels(DetectionLevels(inputs, inputsPath)).StepLoss(distiller, stepInputs)
                : dense ? SegmentationTask.Default.StepLoss(distiller, stepInputs) : ClassificationTask.Default.StepLoss(distiller, stepInputs);
        }
        catch (Exception e) when (e is TorchException or ArgumentException)
        {
            var message = e is ArgumentException { ParamName: { } parameter } ? e.Message.Replace($" (Parameter '{parameter}')", string.Empty, StringComparison.Ordinal) : e.Message;
            throw new CheckpointFormatException($"{inputsPath}: the inputs do not fit {distiller.Name}: {message}", e);
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

        if (distiller is IHasOwnOptimizer { OwnParameters.Count: > 0 } own)
        {
            OwnLoss(distiller, own, stepInputs, terms, output, values, inputsPath);
        }

        // The draws the step used (given or sampled from --seed), so a PyTorch port can replay them.
        foreach (var (name, draw) in distiller.RecordedDraws)
        {
            output.Add(new($"random.{name}", draw));
        }

        try
        {
            SafeTensors.Save(outputPath, output, new Dictionary<string, string> { ["method"] = distiller.Name, ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture) });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{outputPath}: cannot be written: {e.Message}", e);
        }

        return values;
    }

    /// <summary>The step's <see cref="BoxBatch"/> from the padded tensors boxes, box_labels, box_crowd, box_counts and image_sizes (checked by CheckInputs).</summary>
    private static BoxBatch Boxes(SafeTensorsFile inputs)
    {
        var (boxes, labels, crowd) = (inputs.Tensors["boxes"], inputs.Tensors["box_labels"], inputs.Tensors["box_crowd"]);
        var counts = inputs.Tensors["box_counts"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var sizes = inputs.Tensors["image_sizes"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var b = counts.Length;
        var perImage = Enumerable.Range(0, b).Select(i => (Boxes: boxes.Select(0, i).Narrow(0, 0, counts[i]), Labels: labels.Select(0, i).Narrow(0, 0, counts[i]), Crowd: crowd.Select(0, i).Narrow(0, 0, counts[i]).Ne(0))).ToArray();
        return new BoxBatch(
            [.. perImage.Select(p => p.Boxes)],
            [.. perImage.Select(p => p.Labels)],
            [.. perImage.Select(p => p.Crowd)],
            [.. perImage.Select(p => (p.Boxes.Select(1, 2) - p.Boxes.Select(1, 0)) * (p.Boxes.Select(1, 3) - p.Boxes.Select(1, 1)))],
            [.. Enumerable.Range(0, b).Select(i => ((int)sizes[2 * i], (int)sizes[(2 * i) + 1]))]);
    }

    /// <summary>
    /// A method's own loss (<see cref="IHasOwnOptimizer"/>), as training computes it after the student's step: on the
    /// same inputs with the student side detached, its own parameters' gradients cleared first. Writes loss.&lt;term&gt;
    /// for each own term (not part of loss.total) and grad.own.&lt;name&gt; for each own parameter.
    /// </summary>
    private static void OwnLoss(Distiller distiller, IHasOwnOptimizer own, DistillationInputs inputs, LossTerms terms, List<KeyValuePair<string, Tensor>> output,
        Dictionary<string, double> values, string inputsPath)
    {
        var owned = new HashSet<Tensor>(own.OwnParameters, ReferenceEqualityComparer.Instance);
        var parameters = distiller.NamedParameters().Where(p => owned.Contains(p.Parameter)).ToArray();
        foreach (var (_, p) in parameters)
        {
            p.Grad = null;
        }

        LossTerms ownTerms;
        try
        {
            ownTerms = own.ComputeOwnLoss(inputs.DetachStudent());
        }
        catch (Exception e) when (e is TorchException or ArgumentException)
        {
            throw new CheckpointFormatException($"{inputsPath}: the inputs do not fit {distiller.Name}'s own loss: {e.Message}", e);
        }

        foreach (var (name, value) in ownTerms.Terms)
        {
            if (terms.Terms.Any(t => t.Name == name))
            {
                throw new InvalidOperationException($"method '{distiller.Name}': its own loss term '{name}' has the name of a term of the student's loss");
            }

            output.Add(new($"loss.{name}", value.Detach()));
            values[name] = value.To(DType.Float64).Item<double>();
        }

        ownTerms.Total().Backward();
        foreach (var (name, p) in parameters)
        {
            output.Add(new($"grad.own.{name}", p.Grad ?? p.ZerosLike()));
        }
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
        var described = distiller.RandomDraws.ToDictionary(d => d.Split(' ')[0], d => d, StringComparer.Ordinal);
        var draws = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in inputs.Tensors.Where(t => t.Key.StartsWith("random.", StringComparison.Ordinal)))
        {
            var name = key[7..];
            if (!described.TryGetValue(name, out var description))
            {
                throw new CheckpointFormatException($"{path}: {key} is not a random draw of {distiller.Name} (draws: {string.Join(", ", described.Keys.DefaultIfEmpty("none"))})");
            }

            // Index draws say Int64 in their description; masks are Float32. (The shape is checked where the draw is used.)
            var dtype = description.Contains(" Int64", StringComparison.Ordinal) ? DType.Int64 : DType.Float32;
            draws[name] = value.DType == dtype
                ? value
                : throw new CheckpointFormatException($"{path}: {key} is {Tensor.FormatShape(value.Shape)} {value.DType}, expected {dtype}: {description}");
        }

        distiller.OverrideRandomDraws(draws);
    }

    /// <summary>Checks every tensor of the file on its own and against the others (before the method is built from their shapes).</summary>
    private static CheckContext CheckInputs(SafeTensorsFile inputs, string path)
    {
        string Fail(string name, Tensor t, string expected) =>
            throw new CheckpointFormatException($"{path}: tensor '{name}' is {Tensor.FormatShape(t.Shape)} {t.DType}, expected {expected}");

        foreach (var (name, t) in inputs.Tensors)
        {
            if (t.Shape.Any(d => d == 0))
            {
                Fail(name, t, "every size at least 1");
            }

            if (t.DType.IsFloatingPoint() && !t.IsFinite().All().Item<bool>())
            {
                throw new CheckpointFormatException($"{path}: tensor '{name}' {Tensor.FormatShape(t.Shape)} holds NaN or infinite values");
            }
        }

        var logits = inputs.Tensors.GetValueOrDefault("student.logits")
            ?? throw new CheckpointFormatException($"{path}: tensor 'student.logits' is missing (expected [B, K] Float32, or logit maps [B, K, h, w])");
        if (logits.DType != DType.Float32 || logits.Dim is not (2 or 3 or 4) || (logits.Dim == 3 && logits.Size(2) < 6))
        {
            Fail("student.logits", logits, "[B, K] Float32 (class logits), [B, K, h, w] Float32 (logit maps) or [B, L, K + 5] Float32 (a detector's outputs, K at least 1)");
        }

        var dense = logits.Dim == 4;
        var detection = logits.Dim == 3;
        if (detection && inputs.Tensors.Keys.FirstOrDefault(k => k is "labels" or "masks") is { } wrong)
        {
            throw new CheckpointFormatException($"{path}: tensor '{wrong}' is given with a detector's outputs {Tensor.FormatShape(logits.Shape)}; a detection step takes boxes [B, M, 4], box_labels [B, M], box_crowd [B, M], box_counts [B] and image_sizes [B, 2] instead");
        }

        if (!detection && inputs.Tensors.Keys.FirstOrDefault(k => k is "boxes" or "box_labels" or "box_crowd" or "box_counts" or "image_sizes") is { } box)
        {
            throw new CheckpointFormatException($"{path}: tensor '{box}' needs a detector's outputs [B, L, K + 5], but tensor 'student.logits' is {Tensor.FormatShape(logits.Shape)}");
        }
        if (dense && inputs.Tensors.ContainsKey("labels"))
        {
            throw new CheckpointFormatException($"{path}: tensor 'labels' is given with logit maps {Tensor.FormatShape(logits.Shape)}; a segmentation step takes masks [B, H, W] Int64 instead");
        }

        if (!dense && inputs.Tensors.TryGetValue("masks", out var stray))
        {
            throw new CheckpointFormatException($"{path}: tensor 'masks' {Tensor.FormatShape(stray.Shape)} needs logit maps, but student.logits is {Tensor.FormatShape(logits.Shape)}; give logit maps [B, K, h, w], or labels [B] for class logits");
        }

        var (batch, classes) = (logits.Size(0), detection ? logits.Size(2) - 5 : logits.Size(1));
        if (detection)
        {
            CheckBoxes(inputs, path, batch, classes);
        }

        var n = inputs.Tensors.TryGetValue("dataset.labels", out var all) ? all.Size(0) : 0;
        foreach (var (name, t) in inputs.Tensors)
        {
            var side = name.StartsWith("student.", StringComparison.Ordinal) ? "student" : name.StartsWith("teacher.", StringComparison.Ordinal) ? "teacher" : null;
            var tap = side is null ? null : name[(side.Length + 1)..];
            if (name is "labels" or "indices" or "dataset.labels")
            {
                var (size, bound, what) = name == "indices" ? ("B", n, "data-set indices, below the length of dataset.labels") : name == "labels" ? ("B", classes, "class indices") : ("N", classes, "class indices");
                if (t.DType != DType.Int64 || t.Dim != 1 || (size == "B" && t.Size(0) != batch))
                {
                    Fail(name, t, $"[{(size == "B" ? batch.ToString(CultureInfo.InvariantCulture) : "N")}] Int64 (B = {batch} from student.logits)");
                }

                var (min, max) = (t.Min().Item<long>(), t.Max().Item<long>());
                if (min < 0 || max >= bound)
                {
                    throw new CheckpointFormatException($"{path}: tensor '{name}' holds values from {min} to {max}; expected {what} in [0, {bound})");
                }
            }
            else if (name == "masks")
            {
                if (t.DType != DType.Int64 || t.Dim != 3 || t.Size(0) != batch)
                {
                    Fail(name, t, $"[{batch}, H, W] Int64 (B = {batch} from student.logits)");
                }

                var bad = t.To(DType.Int64, Device.Cpu, copy: true).ToArray<long>().Where(v => v != Mask.Ignore && (v < 0 || v >= classes)).Distinct().Order().Take(3).ToArray();
                if (bad.Length > 0)
                {
                    throw new CheckpointFormatException($"{path}: tensor 'masks' holds {string.Join(", ", bad)}; expected class indices in [0, {classes}) or {Mask.Ignore} (ignored)");
                }
            }
            else if (tap == "logits")
            {
                if (t.DType != DType.Float32 || !t.Shape.SequenceEqual(logits.Shape))
                {
                    Fail(name, t, $"{Tensor.FormatShape(logits.Shape)} Float32 (the shape of student.logits)");
                }
            }
            else if (tap is not null && tap.StartsWith(Head, StringComparison.Ordinal))
            {
                var bias = tap == "head.bias";
                if (t.DType != DType.Float32 || t.Dim != (bias ? 1 : 2) || t.Size(0) != classes)
                {
                    Fail(name, t, bias ? $"[{classes}] Float32 (K from student.logits)" : $"[{classes}, C] Float32 (K from student.logits)");
                }
            }
            else if (tap is not null && tap.Contains(BatchNorm, StringComparison.Ordinal))
            {
                var map = inputs.Tensors.GetValueOrDefault($"teacher.{tap[..tap.IndexOf(BatchNorm, StringComparison.Ordinal)]}.preact");
                var channels = map is { Dim: >= 2 } ? map.Size(1) : t.Size(0);
                if (side != "teacher" || t.DType != DType.Float32 || t.Dim != 1 || t.Size(0) != channels)
                {
                    Fail(name, t, $"[{channels}] Float32 on the teacher (the channels of its pre-ReLU map)");
                }
            }
            else if (tap is not null)
            {
                // Vectors are [B, C]; feature maps [B, C, H, W] (convolutional) or [B, tokens, C] (transformers).
                var vector = tap == "pooled";
                if (t.DType != DType.Float32 || (vector ? t.Dim != 2 : t.Dim is not (3 or 4)) || t.Size(0) != batch)
                {
                    Fail(name, t, vector ? $"[{batch}, C] Float32 (B = {batch} from student.logits)" : $"[{batch}, C, H, W] or [{batch}, tokens, C] Float32 (a feature map; B = {batch} from student.logits)");
                }
            }
        }

        return CheckContext.From(inputs);
    }

    /// <summary>The box tensors of a detection step: present, of one padded size M, counts within M, labels in [0, K), crowd 0 or 1, positive image sizes, and each kept box inside its image with x1 &lt;= x2 and y1 &lt;= y2.</summary>
    private static void CheckBoxes(SafeTensorsFile inputs, string path, long batch, long classes)
    {
        Tensor Get(string name, string expected) => inputs.Tensors.GetValueOrDefault(name)
            ?? throw new CheckpointFormatException($"{path}: tensor '{name}' is missing (a detection step needs {expected})");

        var boxes = Get("boxes", "boxes [B, M, 4] Float32, x1 y1 x2 y2 in input pixels");
        if (boxes.DType != DType.Float32 || boxes.Dim != 3 || boxes.Size(0) != batch || boxes.Size(2) != 4)
        {
            throw new CheckpointFormatException($"{path}: tensor 'boxes' is {Tensor.FormatShape(boxes.Shape)} {boxes.DType}, expected [{batch}, M, 4] Float32 (B = {batch} from student.logits)");
        }

        var m = boxes.Size(1);
        foreach (var (name, shape) in new[] { ("box_labels", new[] { batch, m }), ("box_crowd", [batch, m]), ("box_counts", [batch]), ("image_sizes", [batch, 2]) })
        {
            var t = Get(name, $"{name} {Tensor.FormatShape(shape)} Int64");
            if (t.DType != DType.Int64 || !t.Shape.SequenceEqual(shape))
            {
                throw new CheckpointFormatException($"{path}: tensor '{name}' is {Tensor.FormatShape(t.Shape)} {t.DType}, expected {Tensor.FormatShape(shape)} Int64 (B and M from student.logits and boxes)");
            }
        }

        var counts = inputs.Tensors["box_counts"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var sizes = inputs.Tensors["image_sizes"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var labels = inputs.Tensors["box_labels"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var crowd = inputs.Tensors["box_crowd"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var xy = boxes.To(DType.Float32, Device.Cpu, copy: true).ToArray<float>();
        for (var i = 0; i < batch; i++)
        {
            if (counts[i] < 0 || counts[i] > m)
            {
                throw new CheckpointFormatException($"{path}: tensor 'box_counts' holds {counts[i]} for image {i}; expected 0 to M = {m} (the rows of boxes)");
            }

            var (h, w) = (sizes[2 * i], sizes[(2 * i) + 1]);
            if (h < 1 || w < 1)
            {
                throw new CheckpointFormatException($"{path}: tensor 'image_sizes' holds ({h}, {w}) for image {i}; expected a height and width of at least 1");
            }

            for (var j = 0; j < counts[i]; j++)
            {
                var k = (i * m) + j;
                if (labels[k] < 0 || labels[k] >= classes || crowd[k] is not (0 or 1))
                {
                    throw new CheckpointFormatException($"{path}: box {j} of image {i} has label {labels[k]} and crowd {crowd[k]}; expected a label in [0, {classes}) (K from student.logits) and crowd 0 or 1");
                }

                var (x1, y1, x2, y2) = (xy[4 * k], xy[(4 * k) + 1], xy[(4 * k) + 2], xy[(4 * k) + 3]);
                if (x1 < 0 || y1 < 0 || x2 < x1 || y2 < y1 || x2 > w || y2 > h)
                {
                    throw new CheckpointFormatException(string.Create(CultureInfo.InvariantCulture, $"{path}: box {j} of image {i} is ({x1}, {y1}, {x2}, {y2}); expected 0 <= x1 <= x2 <= {w} and 0 <= y1 <= y2 <= {h} (image_sizes)"));
                }
            }
        }

        _ = DetectionLevels(inputs, path);
    }

    /// <summary>
    /// The levels the task's loss of a detection step runs over: for an input of the largest height and width of
    /// image_sizes (the batch tensor holds every image, padded to the largest), at levels.strides [n] Int64 with
    /// levels.scale_ranges [n, 2] Float32 when the file gives them, else the det_scene pair's levels. Their locations
    /// must be student.logits' L.
    /// </summary>
    /// <exception cref="CheckpointFormatException">Bad level tensors, or levels whose locations are not L.</exception>
    private static FcosLevels DetectionLevels(SafeTensorsFile inputs, string path)
    {
        var sizes = inputs.Tensors["image_sizes"].To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
        var height = (int)Enumerable.Range(0, sizes.Length / 2).Max(i => sizes[2 * i]);
        var width = (int)Enumerable.Range(0, sizes.Length / 2).Max(i => sizes[(2 * i) + 1]);
        var given = inputs.Tensors.GetValueOrDefault(LevelStrides);
        var ranges = inputs.Tensors.GetValueOrDefault(LevelScaleRanges);
        FcosLevels levels;
        string source;
        if (given is null && ranges is null)
        {
            using var scene = DetectionModels.Create("det_scene_student");
            levels = scene.Levels(height, width);
            source = "the det_scene pair's levels (give levels.strides [n] Int64 and levels.scale_ranges [n, 2] Float32 for others)";
        }
        else
        {
            if (given is not { DType: DType.Int64, Dim: 1 })
            {
                throw new CheckpointFormatException(given is null
                    ? $"{path}: tensor '{LevelScaleRanges}' is given without '{LevelStrides}' (expected [n] Int64, the levels' strides)"
                    : $"{path}: tensor '{LevelStrides}' is {Tensor.FormatShape(given.Shape)} {given.DType}, expected [n] Int64 (the levels' strides)");
            }

            var n = given.Size(0);
            if (ranges is null || ranges.DType != DType.Float32 || !ranges.Shape.SequenceEqual([n, 2L]))
            {
                throw new CheckpointFormatException(ranges is null
                    ? $"{path}: tensor '{LevelStrides}' is given without '{LevelScaleRanges}' (expected [{n}, 2] Float32, each level's min and max of max(l, t, r, b))"
                    : $"{path}: tensor '{LevelScaleRanges}' is {Tensor.FormatShape(ranges.Shape)} {ranges.DType}, expected [{n}, 2] Float32 (n from {LevelStrides})");
            }

            var strides = given.To(DType.Int64, Device.Cpu, copy: true).ToArray<long>();
            var bounds = ranges.To(DType.Float64, Device.Cpu, copy: true).ToArray<double>();
            for (var i = 0; i < n; i++)
            {
                if (strides[i] < 1 || strides[i] > 1 << 20 || (strides[i] & (strides[i] - 1)) != 0 || (i > 0 && strides[i] <= strides[i - 1]))
                {
                    throw new CheckpointFormatException($"{path}: tensor '{LevelStrides}' holds [{string.Join(", ", strides)}]; expected increasing powers of two");
                }

                if (bounds[2 * i] > bounds[(2 * i) + 1])
                {
                    throw new CheckpointFormatException(string.Create(CultureInfo.InvariantCulture, $"{path}: tensor '{LevelScaleRanges}' row {i} is ({bounds[2 * i]}, {bounds[(2 * i) + 1]}); expected min <= max"));
                }
            }

            levels = FcosLevels.ForInput(height, width, [.. strides.Select(s => $"p{long.Log2(s)}")], [.. strides.Select(s => (int)s)],
                [.. Enumerable.Range(0, (int)n).Select(i => (bounds[2 * i], bounds[(2 * i) + 1]))]);
            source = $"the levels of {LevelStrides}";
        }

        var locations = inputs.Tensors["student.logits"].Size(1);
        return locations == levels.Count ? levels
            : throw new CheckpointFormatException($"{path}: tensor 'student.logits' has L = {locations} locations, but {source} at strides {string.Join(", ", levels.Strides)} for a {height}x{width} input (the largest of image_sizes) have {levels.Count} ({string.Join(" + ", levels.Sizes.Select(z => $"{z.Height}x{z.Width}"))})");
    }

    /// <summary>After the method is built: every input it reads is present with the shape it was built for, and the file holds nothing else.</summary>
    private static void CheckAgainst(IReadOnlyList<ExpectedInput> expected, Distiller distiller, CheckContext context, SafeTensorsFile inputs, string path)
    {
        var batch = inputs.Tensors["student.logits"].Size(0);
        foreach (var input in expected)
        {
            var shape = input.Shape.Select(d => d < 0 ? batch : d).ToArray();
            if (!inputs.Tensors.TryGetValue(input.Name, out var t))
            {
                throw new CheckpointFormatException($"{path}: tensor '{input.Name}' is missing (expected {FormatShape(input.Shape)} {input.DType}{(input.Note is null ? string.Empty : $", {input.Note}")})");
            }

            if (t.DType != input.DType || !t.Shape.SequenceEqual(shape))
            {
                throw new CheckpointFormatException($"{path}: tensor '{input.Name}' is {Tensor.FormatShape(t.Shape)} {t.DType}, expected {Tensor.FormatShape(shape)} {input.DType}");
            }
        }

        var known = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in inputs.Tensors.Keys.Where(k => !known.Contains(k) && !k.StartsWith("method.", StringComparison.Ordinal) && !k.StartsWith("random.", StringComparison.Ordinal) && !(context.Detection && k is LevelStrides or LevelScaleRanges)))
        {
            throw new CheckpointFormatException($"{path}: tensor '{name}' is not an input of {distiller.Name} with these options (inputs: {string.Join(", ", expected.Select(e => e.Name))}; see --describe)");
        }
    }

    /// <summary>Every input the method reads for <paramref name="context"/>'s shapes (a batch dimension is -1), in the order --describe lists them.</summary>
    /// <exception cref="CheckpointFormatException">A tap the method reads is not in <paramref name="path"/>.</exception>
    private static List<ExpectedInput> Expected(Distiller distiller, CheckContext context, string path)
    {
        var logits = context.Student.Shapes["logits"];
        var classes = context.Detection ? logits[2] - 5 : logits[1];
        long[] logitShape = [-1, .. logits.Skip(1)];
        var list = new List<ExpectedInput>
        {
            new("student.logits", logitShape, DType.Float32, context.Dense ? "logit maps" : context.Detection ? "a detector's outputs: K class logits, 4 box distances, centerness" : null),
        };
        if (distiller.NeedsTeacher)
        {
            list.Add(new("teacher.logits", logitShape, DType.Float32, null));
        }

        if (context.Detection)
        {
            var m = context.BoxSlots;
            list.Add(new("boxes", [-1, m, 4], DType.Float32, "x1, y1, x2, y2 in input pixels; image i's first box_counts[i] rows"));
            list.Add(new("box_labels", [-1, m], DType.Int64, $"class indices in [0, {classes})"));
            list.Add(new("box_crowd", [-1, m], DType.Int64, "1: a crowd / ignore region"));
            list.Add(new("box_counts", [-1], DType.Int64, "each image's number of boxes"));
            list.Add(new("image_sizes", [-1, 2], DType.Int64, "height, width before padding"));
        }
        else
        {
            list.Add(context.Dense
            ? new("masks", context.MaskShape is { } masks ? [-1, .. masks.Skip(1)] : [-1, -2, -3], DType.Int64, $"class indices in [0, {classes}), or {Mask.Ignore} (ignored)")
            : new("labels", [-1], DType.Int64, $"class indices in [0, {classes})"));
        }

        // A tap the method reads (chosen by its options, or a stage of the other network) may be absent from the file.
        long[] Shape(string side, string tap) =>
            (side == "student" ? context.Student : context.Teacher)?.Shapes.GetValueOrDefault(tap)
            ?? throw new CheckpointFormatException($"{path}: tensor '{side}.{tap}' is missing (expected a feature map [B, C, H, W] or [B, tokens, C] Float32: {distiller.Name} reads it)");

        // The taps the method reads at each step, then those whose shapes built it (e.g. ofa's projector width from "pooled").
        foreach (var (side, table, taps) in new[] { ("student", context.Student, distiller.StudentTaps), ("teacher", context.Teacher, distiller.TeacherTaps) })
        {
            foreach (var tap in taps.Concat(table?.Read.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>()).Where(t => t != "logits").Distinct())
            {
                list.Add(new($"{side}.{tap}", [-1, .. Shape(side, tap).Skip(1)], DType.Float32, taps.Contains(tap) ? null : "its shape builds the method"));
            }
        }

        if (distiller is IUsesClassifierHeads heads)
        {
            foreach (var side in new[] { "student", "teacher" })
            {
                var channels = Shape(side, heads.HeadTap)[1];
                list.Add(new($"{side}.head.weight", [classes, channels], DType.Float32, $"the {side}'s classifier"));
                list.Add(new($"{side}.head.bias", [classes], DType.Float32, null));
            }
        }

        if (distiller is IUsesSampleIndices)
        {
            var n = context.DatasetSize;
            list.Add(new("indices", [-1], DType.Int64, $"the samples' data-set indices in [0, {n})"));
            list.Add(new("dataset.labels", [n], DType.Int64, $"the training set's labels, in [0, {classes})"));
        }

        foreach (var stage in (distiller as IReadsTeacherBatchNorm)?.TeacherBatchNormStages ?? [])
        {
            var channels = Shape("teacher", stage + ".preact")[1];
            list.Add(new($"teacher.{stage}.bn.weight", [channels], DType.Float32, "the teacher's BN before the stage's ReLU"));
            list.Add(new($"teacher.{stage}.bn.bias", [channels], DType.Float32, null));
        }

        return list;
    }

    private static string FormatShape(long[] shape) =>
        "[" + string.Join(", ", shape.Select(d => d switch { -1 => "B", -2 => "H", -3 => "W", _ => d.ToString(CultureInfo.InvariantCulture) })) + "]";

    /// <summary>An input of the check: its name, shape (-1 for the batch), dtype and what it is.</summary>
    private sealed record ExpectedInput(string Name, long[] Shape, DType DType, string? Note);

    /// <summary>Tap shapes by name that remember which taps the method's factory looked up.</summary>
    private sealed class ShapeTable(Dictionary<string, long[]> shapes) : IReadOnlyDictionary<string, long[]>
    {
        public HashSet<string> Read { get; } = new(StringComparer.Ordinal);

        public int Count => shapes.Count;

        public IEnumerable<string> Keys => shapes.Keys;

        public IEnumerable<long[]> Values => shapes.Values;

        public long[] this[string key] => TryGetValue(key, out var shape) ? shape : throw new KeyNotFoundException(key);

        public IReadOnlyDictionary<string, long[]> Shapes => shapes;

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out long[] value)
        {
            Read.Add(key);
            return shapes.TryGetValue(key, out value);
        }

        public IEnumerator<KeyValuePair<string, long[]>> GetEnumerator() => shapes.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A method context together with the shape tables it was built from.</summary>
    private sealed class CheckContext(ShapeTable student, ShapeTable? teacher, List<(double[], double[])> norms, int[]? datasetLabels, long[]? maskShape = null, long boxSlots = 0)
    {
        /// <summary>Whether the step is a segmentation step (logit maps, masks).</summary>
        public bool Dense => Student.Shapes.TryGetValue("logits", out var logits) && logits.Length == 4;

        /// <summary>Whether the step is a detection step (a detector's outputs [B, L, K + 5], boxes).</summary>
        public bool Detection => Student.Shapes.TryGetValue("logits", out var logits) && logits.Length == 3;

        /// <summary>M, the padded number of boxes per image of the file's boxes [B, M, 4].</summary>
        public long BoxSlots { get; } = boxSlots;

        /// <summary>The shape of the file's masks, when given.</summary>
        public long[]? MaskShape { get; } = maskShape;

        public ShapeTable Student { get; } = student;

        public ShapeTable? Teacher { get; } = teacher;

        public long DatasetSize => datasetLabels?.Length ?? 0;

        public MethodContext Context { get; } = new(student, teacher, norms) { DatasetLabels = datasetLabels };

        /// <summary>What <see cref="Example"/> builds for <paramref name="task"/>, in words.</summary>
        public static string ExampleText(string task) => task == MethodDescriptor.Segmentation
            ? "student scene_student, teacher scene_teacher, 1x64x64 scenes with 11 classes"
            : task == MethodDescriptor.Detection ? "the CPU-sized FCOS student and teacher, 1x96x96 scenes with 10 classes, FPN P2-P4, up to 5 boxes"
            : "student resnet8, teacher resnet20, 3x32x32 images";

        /// <summary>
        /// Classification: student resnet8 and teacher resnet20 on 3×32×32 images, 100 classes, a CIFAR-100-sized
        /// training set. Segmentation: scene_student and scene_teacher on 1×64×64 scenes, 11 classes, masks [B, 64, 64].
        /// </summary>
        public static CheckContext Example(string task = MethodDescriptor.Classification)
        {
            if (task == MethodDescriptor.Detection)
            {
                return new CheckContext(new ShapeTable(DetectionExampleShapes(student: true)), new ShapeTable(DetectionExampleShapes(student: false)), [], null, null, boxSlots: 5);
            }

            var (options, studentModel, teacherModel, labels) = ExampleModels(task);
            using (studentModel)
            using (teacherModel)
            {
                var example = MethodContext.FromModels(studentModel, teacherModel, options, labels);
                var norms = teacherModel.BnBeforeRelu.Select((_, i) => example.TeacherBatchNorm(i)).ToList();
                ShapeTable Shapes(TappedModel<Tensor> m) =>
                    new(m.DryRun(options).ToDictionary(t => t.Tap, t => t.Shape, StringComparer.Ordinal));
                long[]? masks = task == MethodDescriptor.Segmentation ? [1, options.Height, options.Width] : null;
                return new CheckContext(Shapes(studentModel), Shapes(teacherModel), norms, labels, masks);
            }
        }

        public static CheckContext From(SafeTensorsFile inputs)
        {
            ShapeTable Taps(string side) => new(inputs.Tensors
                .Where(t => t.Key.StartsWith(side + ".", StringComparison.Ordinal))
                .Select(t => (Name: t.Key[(side.Length + 1)..], t.Value.Shape))
                .Where(t => !t.Name.StartsWith(Head, StringComparison.Ordinal) && !t.Name.Contains(BatchNorm, StringComparison.Ordinal))
                .ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal));

            // The teacher's BN by stage; a stage the file leaves out (between given ones) has no margins.
            var norms = new List<(double[], double[])>();
            var last = inputs.Tensors.Keys.Select(k => k.StartsWith("teacher.stage", StringComparison.Ordinal) && k.EndsWith(".bn.weight", StringComparison.Ordinal)
                && int.TryParse(k.AsSpan(13, k.Length - 13 - 10), NumberStyles.None, CultureInfo.InvariantCulture, out var stage) ? stage : 0).DefaultIfEmpty(0).Max();
            for (var stage = 1; stage <= last; stage++)
            {
                norms.Add(inputs.Tensors.TryGetValue($"teacher.stage{stage}.bn.weight", out var weight) && inputs.Tensors.TryGetValue($"teacher.stage{stage}.bn.bias", out var bias)
                    ? (weight.To(DType.Float64).ToArray<double>(), bias.To(DType.Float64).ToArray<double>())
                    : ([], []));
            }

            var teacher = Taps("teacher");
            var labels = inputs.Tensors.TryGetValue("dataset.labels", out var all) ? all.To(DType.Int64).ToArray<long>().Select(l => (int)l).ToArray() : null;
            return new CheckContext(Taps("student"), teacher.Count > 0 ? teacher : null, norms, labels, inputs.Tensors.GetValueOrDefault("masks")?.Shape,
                inputs.Tensors.GetValueOrDefault("boxes") is { Dim: 3 } boxes ? boxes.Size(1) : 0);
        }
    }
}

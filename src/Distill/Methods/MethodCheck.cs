using System.Globalization;
using System.Text;
using Distill.Configs;
using Distill.NN.Checkpoints;
using Distill.Torch;

namespace Distill.Methods;

/// <summary>
/// The parity harness behind `distill check`: runs one method on tensors from a safetensors file
/// (student.logits [B,K] Float32, teacher.logits [B,K], labels [B] Int64, and optionally method.&lt;param&gt;
/// values) and writes every weighted term (loss.&lt;term&gt;, loss.total), the gradient of the total with
/// respect to the student logits (grad.student.logits) and to each method parameter (grad.method.&lt;param&gt;).
/// </summary>
public static class MethodCheck
{
    /// <summary>Builds the method from its name and option overrides such as "temperature=2" (or "method.temperature=2").</summary>
    /// <exception cref="ConfigException">The method or an option is unknown or malformed.</exception>
    public static Distiller Create(string method, IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(options);
        if (method == "none" || !MethodFactory.Names.Contains(method))
        {
            throw new ConfigException($"--method '{method}' is not one of {string.Join(", ", MethodFactory.Names.Where(n => n != "none"))}");
        }

        var recipe = "student:\n  model: resnet8\nteacher:\n  model: resnet8\n  checkpoint: unused\n";
        var overrides = new List<string> { $"method.name={method}" };
        overrides.AddRange(options.Select(o => o.StartsWith("method.", StringComparison.Ordinal) ? o : "method." + o));
        var config = ConfigLoader.Parse(recipe, "options", overrides);
        return MethodFactory.Create(config.Method)!;
    }

    /// <summary>What the method expects: inputs, parameters with shapes, and its options.</summary>
    public static string Describe(Distiller distiller)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        using var scope = DisposeScope.Enter();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"method {distiller.Name}\n");
        sb.Append("inputs: student.logits [B, K] Float32, teacher.logits [B, K] Float32, labels [B] Int64\n");
        sb.Append("parameters (method.<name>, optional; else initialised as the method does):\n");
        var any = false;
        foreach (var (name, t) in distiller.NamedParameters())
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {name} {Tensor.FormatShape(t.Shape)} {t.DType}\n");
            any = true;
        }

        if (!any)
        {
            sb.Append("  none\n");
        }

        sb.Append("random draws: none\n");
        sb.Append("options (--set key=value): temperature, ce_weight, kd_weight, logit_standardization, alpha, beta, warmup\n");
        return sb.ToString();
    }

    /// <summary>Runs the check and writes the output file.</summary>
    /// <exception cref="CheckpointFormatException">An input tensor is missing or has the wrong shape or dtype; the message names it.</exception>
    public static IReadOnlyDictionary<string, double> Run(Distiller distiller, string inputsPath, string outputPath, int epoch = 1)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        using var scope = DisposeScope.Enter();
        using var inputs = SafeTensors.Load(inputsPath);
        var student = Require(inputs, inputsPath, "student.logits", DType.Float32, dims: 2);
        var teacher = Require(inputs, inputsPath, "teacher.logits", DType.Float32, dims: 2);
        var labels = Require(inputs, inputsPath, "labels", DType.Int64, dims: 1);
        if (!teacher.Shape.SequenceEqual(student.Shape) || labels.Size(0) != student.Size(0))
        {
            throw new CheckpointFormatException(
                $"{inputsPath}: teacher.logits {Tensor.FormatShape(teacher.Shape)} and labels {Tensor.FormatShape(labels.Shape)} must match student.logits {Tensor.FormatShape(student.Shape)} ([B, K] and [B])");
        }

        var parameters = distiller.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        var given = inputs.Tensors.Where(t => t.Key.StartsWith("method.", StringComparison.Ordinal)).ToDictionary(t => t.Key[7..], t => t.Value, StringComparer.Ordinal);
        foreach (var (name, value) in given)
        {
            if (!parameters.TryGetValue(name, out var p))
            {
                throw new CheckpointFormatException($"{inputsPath}: method.{name} is not a parameter of {distiller.Name} (parameters: {string.Join(", ", parameters.Keys.DefaultIfEmpty("none"))})");
            }

            if (!p.Shape.SequenceEqual(value.Shape))
            {
                throw new CheckpointFormatException($"{inputsPath}: method.{name} has shape {Tensor.FormatShape(value.Shape)}, expected {Tensor.FormatShape(p.Shape)}");
            }
        }

        distiller.LoadStateDict(given, strict: false);
        distiller.OnEpochStart(epoch, epoch);
        var x = student.Detach().RequireGrad();
        distiller.ZeroGrad();
        var terms = distiller.ComputeLoss(new DistillationInputs(x, teacher, labels, labels, null, null, epoch));
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
        output.Add(new("grad.student.logits", x.Grad!));
        foreach (var (name, p) in parameters)
        {
            output.Add(new($"grad.method.{name}", p.Grad ?? p.ZerosLike()));
        }

        SafeTensors.Save(outputPath, output, new Dictionary<string, string> { ["method"] = distiller.Name, ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture) });
        return values;
    }

    private static Tensor Require(SafeTensorsFile file, string path, string name, DType dtype, int dims)
    {
        if (!file.Tensors.TryGetValue(name, out var t))
        {
            throw new CheckpointFormatException($"{path}: tensor '{name}' is missing (expected {(dims == 2 ? "[B, K]" : "[B]")} {dtype})");
        }

        if (t.DType != dtype || t.Dim != dims)
        {
            throw new CheckpointFormatException($"{path}: tensor '{name}' is {Tensor.FormatShape(t.Shape)} {t.DType}, expected {(dims == 2 ? "[B, K]" : "[B]")} {dtype}");
        }

        return t;
    }
}

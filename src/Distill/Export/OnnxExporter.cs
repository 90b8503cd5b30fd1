using Distill.NN;
using Distill.Torch;
using Google.Protobuf;

namespace Distill.Export;

/// <summary>
/// Writes a model of the zoo as an ONNX file (opset 17): one input of shape [batch, C, H, W] with a dynamic batch
/// dimension (and dynamic height and width unless the graph holds the exported size: a fixed position embedding,
/// adaptive pooling to fixed windows), one output, the weights as initializers under their state-dict names, batch norms kept as
/// BatchNormalization nodes or folded into the convolutions before them. The model is walked module by module in
/// eval mode; a module with no ONNX mapping is refused with its path (<see cref="OnnxExportException"/>).
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX file's bytes for <paramref name="model"/> on inputs of <paramref name="inputShape"/> (C, H, W).</summary>
    /// <exception cref="OnnxExportException">A module of the model has no ONNX mapping; the exception names its path.</exception>
    /// <exception cref="ArgumentException">The opset is not 17 or the input shape is not C x H x W.</exception>
    public static byte[] Export(Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape, OnnxExportOptions? options = null) =>
        Build(model, inputShape, options ?? new OnnxExportOptions()).ToByteArray();

    /// <summary>Writes the ONNX file for <paramref name="model"/> to <paramref name="path"/> (through a temporary file, then moved).</summary>
    /// <exception cref="OnnxExportException">A module of the model has no ONNX mapping; the exception names its path.</exception>
    public static void Export(Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = Export(model, inputShape, options);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private static Onnx.ModelProto Build(Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (options.Opset != 17)
        {
            throw new ArgumentException($"only opset 17 is written (got {options.Opset})", nameof(options));
        }

        if (inputShape.Count != 3 || inputShape.Any(d => d < 1))
        {
            throw new ArgumentException($"the input shape is C x H x W with positive sizes (got {Tensor.FormatShape([.. inputShape])})", nameof(inputShape));
        }

        var wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            long[] input = [1, .. inputShape];
            long[] output;
            var inputShapes = new Dictionary<Module, long[]>(ReferenceEqualityComparer.Instance);
            var hooks = model.NamedModules().Where(m => m.Module is AdaptiveAvgPool2d)
                .Select(m => m.Module.RegisterForwardHook((module, x, _) => inputShapes[module] = ((Tensor)x).Shape)).ToList();
            try
            {
                using (Autograd.NoGrad())
                using (var scope = DisposeScope.Enter())
                {
                    var device = model.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
                    output = model.Forward(Tensor.Zeros(input, device: device)).Shape;
                }
            }
            finally
            {
                hooks.ForEach(h => h.Dispose());
            }

            var graph = new OnnxGraph(model, options.InputName) { InputShapes = inputShapes };
            var result = graph.Emit(model, options.InputName);
            if (options.FoldBatchNorm)
            {
                graph.FoldBatchNorms();
            }

            var last = graph.Nodes.LastOrDefault(n => n.Output[0] == result);
            if (last is null)
            {
                graph.Node("Identity", [result], string.Empty);
                last = graph.Nodes[^1];
            }

            last.Output[0] = options.OutputName;
            // A graph that did not hold the exported size takes any height and width: a classifier's output does not
            // depend on them, a dense output's spatial dimensions do (a model may name its own, as the detectors do).
            var sizeDependent = model is IOnnxExportable { SizeDependentOutputDims.Count: > 0 } exportable
                ? exportable.SizeDependentOutputDims
                : output.Length == 4 ? new Dictionary<int, string> { [2] = "out_height", [3] = "out_width" } : new Dictionary<int, string>();
            return graph.ToModel(model.GetType().Name, options.InputName, options.OutputName, input, output, options, graph.FixedSizeReason is null, sizeDependent);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}

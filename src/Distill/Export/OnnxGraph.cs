using System.Globalization;
using Distill.NN;
using Distill.Torch;
using Google.Protobuf;
using Onnx;

namespace Distill.Export;

/// <summary>
/// The ONNX graph an export builds: nodes in order, float initializers (kept as arrays until the end so batch norms can
/// be folded), int64 constants, and the walk over the module tree. Leaf modules of Distill.NN map to nodes here; the
/// zoo's composite modules describe their own forward through <see cref="IOnnxExportable"/>. A module neither knows is
/// refused with its path.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<Module, string> _paths = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (float[] Data, long[] Dims)> _floats = new(StringComparer.Ordinal);
    private readonly List<TensorProto> _constants = [];
    private readonly Dictionary<Tensor, string> _parameters = new(ReferenceEqualityComparer.Instance);

    public OnnxGraph(Module root, string inputName)
    {
        foreach (var (path, module) in root.NamedModules())
        {
            _paths.TryAdd(module, path);
        }

        _names.Add(inputName);
    }

    /// <summary>
    /// Why the graph holds the exported image size (a fixed position embedding, adaptive pooling to fixed windows), or
    /// null while every node added so far takes any height and width. The file then declares the exported height and
    /// width instead of symbolic ones.
    /// </summary>
    public string? FixedSizeReason { get; private set; }

    /// <summary>Records that the graph is only valid at the exported image size, and why (the first reason is kept).</summary>
    public void HoldImageSize(string reason) => FixedSizeReason ??= reason;

    /// <summary>
    /// The input shape each module of a kind whose graph depends on it (adaptive pooling) had in a dry run at the
    /// exported size; the file holds the graph for that image size.
    /// </summary>
    public IReadOnlyDictionary<Module, long[]> InputShapes { get; init; } = new Dictionary<Module, long[]>();

    /// <summary>The nodes in topological order (the order they were added).</summary>
    public List<NodeProto> Nodes { get; } = [];

    /// <summary>The float initializers by name.</summary>
    public IReadOnlyDictionary<string, (float[] Data, long[] Dims)> Floats => _floats;

    /// <summary>The int64 constants.</summary>
    public IReadOnlyList<TensorProto> Constants => _constants;

    /// <summary>The dotted path of a module of the exported tree ("" for the root, "?" for a module outside it).</summary>
    public string PathOf(Module module) => _paths.TryGetValue(module, out var p) ? (p.Length == 0 ? "(root)" : p) : "?";

    /// <summary>Emits <paramref name="module"/> applied to the value <paramref name="input"/>; returns its output's name.</summary>
    /// <exception cref="OnnxExportException">The module (or one inside it) has no ONNX mapping; the message names its path.</exception>
    public string Emit(Module module, string input)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module is IOnnxExportable exportable)
        {
            return exportable.ExportOnnx(this, input);
        }

        var path = PathOf(module);
        switch (module)
        {
            case Sequential sequential:
                var x = input;
                for (var i = 0; i < sequential.Count; i++)
                {
                    x = Emit(sequential[i], x);
                }

                return x;
            case Conv2d conv:
                return Conv(conv, input);
            case BatchNorm bn when bn.GetType() == typeof(BatchNorm2d):
                return BatchNorm(bn, input);
            case ReLU:
                return Node("Relu", [input], path);
            case ReLU6:
                return Node("Clip", [input, Scalar(path + ".min", 0), Scalar(path + ".max", 6)], path);
            case LeakyReLU leaky:
                return Node("LeakyRelu", [input], path, Attr("alpha", (float)leaky.NegativeSlope));
            case Sigmoid:
                return Node("Sigmoid", [input], path);
            case Tanh:
                return Node("Tanh", [input], path);
            case SiLU:
                return Node("Mul", [input, Node("Sigmoid", [input], path)], path);
            case Hardswish:
                return Node("HardSwish", [input], path);
            case Identity or Dropout or Dropout2d:
                return input;
            case MaxPool2d pool:
                return Node("MaxPool", [input], path,
                    Attr("kernel_shape", pool.KernelSize, pool.KernelSize), Attr("strides", pool.Stride, pool.Stride),
                    Attr("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding), Attr("dilations", pool.Dilation, pool.Dilation),
                    Attr("ceil_mode", pool.CeilMode ? 1 : 0));
            case AvgPool2d pool:
                return Node("AveragePool", [input], path,
                    Attr("kernel_shape", pool.KernelSize, pool.KernelSize), Attr("strides", pool.Stride, pool.Stride),
                    Attr("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding),
                    Attr("ceil_mode", pool.CeilMode ? 1 : 0), Attr("count_include_pad", pool.CountIncludePad ? 1 : 0));
            case AdaptiveAvgPool2d pool when pool.OutputSize == (1, 1):
                return Node("GlobalAveragePool", [input], path);
            case AdaptiveAvgPool2d pool when InputShapes.TryGetValue(pool, out var shape):
                HoldImageSize($"adaptive pooling to {pool.OutputSize.Item1} x {pool.OutputSize.Item2} at '{path}'");
                return AdaptiveAveragePool(pool, input, shape[2], shape[3]);
            case Flatten flatten when flatten.EndDim == -1 && flatten.StartDim == 1:
                return Node("Flatten", [input], path, Attr("axis", 1));
            case Linear linear:
                return Gemm(linear, input);
            case LayerNorm norm:
                return LayerNorm(norm, input);
            case GroupNorm norm:
                return GroupNorm(norm, input);
            case TransformerEncoderLayer layer:
                return TransformerLayer(layer, input);
            case MultiheadAttention attention:
                return SelfAttention(attention, input);
            default:
                throw new OnnxExportException(path, $"cannot export module '{path}' ({module.GetType().Name}): it has no ONNX mapping");
        }
    }

    /// <summary>Adds a node with one output; returns the output's name.</summary>
    public string Node(string op, IEnumerable<string> inputs, string hint, params AttributeProto[] attributes)
    {
        var output = Fresh(hint.Length == 0 ? op : $"{hint}/{op}");
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Nodes.Add(node);
        return output;
    }

    /// <summary>x + y.</summary>
    public string Add(string x, string y, string hint) => Node("Add", [x, y], hint);

    /// <summary>max(x, 0).</summary>
    public string Relu(string x, string hint) => Node("Relu", [x], hint);

    /// <summary>The values joined along <paramref name="axis"/>.</summary>
    public string Concat(IEnumerable<string> values, long axis, string hint) => Node("Concat", values, hint, Attr("axis", axis));

    /// <summary>x reshaped to <paramref name="shape"/> (0 keeps the input's dimension, -1 is inferred).</summary>
    public string Reshape(string x, string hint, params long[] shape) => Node("Reshape", [x, Int64s(hint + ".shape", shape)], hint);

    /// <summary>x with its axes permuted.</summary>
    public string Transpose(string x, string hint, params long[] perm) => Node("Transpose", [x], hint, Attr("perm", perm));

    /// <summary>Channels [start, start + length) of x (axis 1).</summary>
    public string Narrow(string x, long axis, long start, long length, string hint) =>
        Node("Slice", [x, Int64s(hint + ".starts", start), Int64s(hint + ".ends", start + length), Int64s(hint + ".axes", axis)], hint);

    /// <summary>Channels [start, end of axis) of x.</summary>
    public string NarrowToEnd(string x, long axis, long start, string hint) =>
        Node("Slice", [x, Int64s(hint + ".starts", start), Int64s(hint + ".ends", long.MaxValue), Int64s(hint + ".axes", axis)], hint);

    /// <summary>Entries [start, end) of the 1-d shape of x.</summary>
    public string ShapeSlice(string x, long start, long end, string hint) =>
        Node("Slice", [Node("Shape", [x], hint), Int64s(hint + ".starts", start), Int64s(hint + ".ends", end)], hint);

    /// <summary>
    /// x resized bilinearly to the height and width of <paramref name="like"/> at run time (F.interpolate's bilinear
    /// mode: half-pixel centres as PyTorch computes them, or corners aligned).
    /// </summary>
    public string ResizeBilinear(string x, string like, bool alignCorners, string hint) =>
        Resize(x, like, hint, StringAttr("mode", "linear"), StringAttr("coordinate_transformation_mode", alignCorners ? "align_corners" : "pytorch_half_pixel"));

    /// <summary>
    /// x resized to the height and width of <paramref name="like"/> at run time by F.interpolate's nearest mode: output
    /// index i reads input index floor(i * in / out).
    /// </summary>
    public string ResizeNearest(string x, string like, string hint) =>
        Resize(x, like, hint, StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"));

    /// <summary>
    /// An If node: <paramref name="thenBranch"/> where the boolean scalar <paramref name="condition"/> holds at run time,
    /// else <paramref name="elseBranch"/>. Each branch adds its nodes to this graph as usual (reading outer values by
    /// name) and returns its float result; those nodes move into the branch's subgraph.
    /// </summary>
    public string If(string condition, Func<string> thenBranch, Func<string> elseBranch, string hint)
    {
        ArgumentNullException.ThrowIfNull(thenBranch);
        ArgumentNullException.ThrowIfNull(elseBranch);
        GraphProto Branch(Func<string> body, string name)
        {
            var first = Nodes.Count;
            var result = body();
            if (Nodes.Count == first || Nodes[^1].Output[0] != result)
            {
                result = Node("Identity", [result], hint + "." + name);
            }

            var branch = new GraphProto { Name = Fresh(hint + "." + name) };
            branch.Node.AddRange(Nodes.Skip(first));
            Nodes.RemoveRange(first, Nodes.Count - first);
            branch.Output.Add(new ValueInfoProto
            {
                Name = result,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
            return branch;
        }

        var then = Branch(thenBranch, "then");
        var otherwise = Branch(elseBranch, "else");
        return Node("If", [condition], hint,
            new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then },
            new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = otherwise });
    }

    /// <summary>The names every node reads, those inside If branches included.</summary>
    public static IEnumerable<string> InputsOf(IEnumerable<NodeProto> nodes) =>
        nodes.SelectMany(n => n.Input.Concat(InputsOf(n.Attribute.Where(a => a.G is not null).SelectMany(a => a.G.Node))));

    /// <summary>
    /// A float initializer from a tensor, named <paramref name="name"/> (made unique); a tensor asked for again (a
    /// module applied more than once, as FCOS's shared head on every level) gives the initializer it got the first time.
    /// </summary>
    public string Weight(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (_parameters.TryGetValue(tensor, out var known))
        {
            return known;
        }

        using var cpu = tensor.To(Device.Cpu);
        using var f = cpu.To(DType.Float32);
        return _parameters[tensor] = Weight(name, f.ToArray<float>(), tensor.Shape);
    }

    /// <summary>A float initializer from values and dimensions.</summary>
    public string Weight(string name, float[] data, long[] dims)
    {
        var unique = Fresh(name);
        _floats[unique] = (data, dims);
        return unique;
    }

    /// <summary>A float scalar initializer.</summary>
    public string Scalar(string name, float value) => Weight(name, [value], []);

    /// <summary>A 1-d int64 constant.</summary>
    public string Int64s(string name, params long[] values)
    {
        var unique = Fresh(name);
        var tensor = new TensorProto { Name = unique, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _constants.Add(tensor);
        return unique;
    }

    /// <summary>An int64 scalar constant.</summary>
    public string Int64Scalar(string name, long value)
    {
        var unique = Fresh(name);
        var tensor = new TensorProto { Name = unique, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Int64Data.Add(value);
        _constants.Add(tensor);
        return unique;
    }

    /// <summary>A linear layer on the last axis of an input of any rank: MatMul by the transposed weight, then the bias.</summary>
    public string LinearAnyRank(Linear linear, string input)
    {
        ArgumentNullException.ThrowIfNull(linear);
        var path = PathOf(linear);
        var w = linear.Weight.Shape;
        var data = ToFloats(linear.Weight);
        var transposed = new float[data.Length];
        for (var o = 0; o < w[0]; o++)
        {
            for (var i = 0; i < w[1]; i++)
            {
                transposed[(i * w[0]) + o] = data[(o * w[1]) + i];
            }
        }

        var y = Node("MatMul", [input, Weight(path + ".weight_t", transposed, [w[1], w[0]])], path);
        return linear.Bias is null ? y : Add(y, Weight(path + ".bias", linear.Bias), path);
    }

    /// <summary>Builds an attribute of one integer.</summary>
    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>Builds an attribute of one float.</summary>
    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>Builds an attribute of one string.</summary>
    public static AttributeProto StringAttr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>Builds an attribute of integers.</summary>
    public static AttributeProto Attr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A float initializer's proto.</summary>
    public static TensorProto FloatTensor(string name, float[] data, long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        }

        tensor.RawData = ByteString.CopyFrom(bytes);
        return tensor;
    }

    /// <summary>
    /// Folds each BatchNormalization whose input is a Conv's output read by nothing else, and whose weights no other
    /// node reads, into that Conv:
    /// s = gamma / sqrt(var + eps), W' = W * s per output channel, b' = (b - mean) * s + beta (computed in double).
    /// </summary>
    public void FoldBatchNorms()
    {
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in InputsOf(Nodes))
        {
            readers[input] = readers.GetValueOrDefault(input) + 1;
        }

        var producers = Nodes.ToDictionary(n => n.Output[0], StringComparer.Ordinal);
        var folded = new List<NodeProto>();
        foreach (var bn in Nodes.Where(n => n.OpType == "BatchNormalization"))
        {
            if (!producers.TryGetValue(bn.Input[0], out var conv) || conv.OpType != "Conv" || readers[bn.Input[0]] != 1
                || conv.Input.Skip(1).Any(w => readers[w] != 1))
            {
                continue;
            }

            var (gamma, beta, mean, variance) = (_floats[bn.Input[1]].Data, _floats[bn.Input[2]].Data, _floats[bn.Input[3]].Data, _floats[bn.Input[4]].Data);
            var eps = (double)bn.Attribute.Single(a => a.Name == "epsilon").F;
            var (weight, dims) = _floats[conv.Input[1]];
            var outChannels = dims[0];
            var perChannel = weight.Length / outChannels;
            var newWeight = new float[weight.Length];
            var newBias = new float[outChannels];
            var bias = conv.Input.Count > 2 ? _floats[conv.Input[2]].Data : null;
            for (var c = 0; c < outChannels; c++)
            {
                var scale = gamma[c] / Math.Sqrt(variance[c] + eps);
                for (var j = 0; j < perChannel; j++)
                {
                    newWeight[(c * perChannel) + j] = (float)(weight[(c * perChannel) + j] * scale);
                }

                newBias[c] = (float)((((bias?[c] ?? 0) - mean[c]) * scale) + beta[c]);
            }

            _floats[conv.Input[1]] = (newWeight, dims);
            if (bias is null)
            {
                conv.Input.Add(Weight(conv.Name + ".folded_bias", newBias, [outChannels]));
            }
            else
            {
                _floats[conv.Input[2]] = (newBias, [outChannels]);
            }

            conv.Output[0] = bn.Output[0];
            folded.Add(bn);
        }

        foreach (var bn in folded)
        {
            Nodes.Remove(bn);
        }
    }

    /// <summary>
    /// The graph as a model: the initializers that some node reads, the input and output with their shapes (the batch
    /// symbolic; with <paramref name="anyImageSize"/> the input's height and width too, and the output dimensions
    /// <paramref name="sizeDependentOutputDims"/> names, by index).
    /// </summary>
    public ModelProto ToModel(string graphName, string input, string output, long[] inputShape, long[] outputShape, OnnxExportOptions options,
        bool anyImageSize, IReadOnlyDictionary<int, string> sizeDependentOutputDims)
    {
        var read = InputsOf(Nodes).ToHashSet(StringComparer.Ordinal);
        var graph = new GraphProto { Name = graphName };
        graph.Node.AddRange(Nodes);
        graph.Initializer.AddRange(_floats.Where(f => read.Contains(f.Key)).Select(f => FloatTensor(f.Key, f.Value.Data, f.Value.Dims)));
        graph.Initializer.AddRange(_constants.Where(c => read.Contains(c.Name)));
        var noDims = new Dictionary<int, string>();
        graph.Input.Add(ValueInfo(input, inputShape, options.BatchDimension, anyImageSize ? new Dictionary<int, string> { [2] = "height", [3] = "width" } : noDims));
        graph.Output.Add(ValueInfo(output, outputShape, options.BatchDimension, anyImageSize ? sizeDependentOutputDims : noDims));
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Distill",
            ProducerVersion = TorchRuntime.Version,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, long[] shape, string batch, IReadOnlyDictionary<int, string> symbolic)
    {
        var tensorShape = new TensorShapeProto();
        tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        for (var i = 1; i < shape.Length; i++)
        {
            tensorShape.Dim.Add(symbolic.TryGetValue(i, out var param)
                ? new TensorShapeProto.Types.Dimension { DimParam = param }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } },
        };
    }

    private static float[] ToFloats(Tensor tensor)
    {
        using var cpu = tensor.To(Device.Cpu);
        using var f = cpu.To(DType.Float32);
        return f.ToArray<float>();
    }

    private string Fresh(string hint)
    {
        if (_names.Add(hint))
        {
            return hint;
        }

        for (var i = 1; ; i++)
        {
            var candidate = hint + "_" + i.ToString(CultureInfo.InvariantCulture);
            if (_names.Add(candidate))
            {
                return candidate;
            }
        }
    }

    private string Conv(Conv2d conv, string input)
    {
        var path = PathOf(conv);
        List<string> inputs = [input, Weight(path + ".weight", conv.Weight)];
        if (conv.Bias is not null)
        {
            inputs.Add(Weight(path + ".bias", conv.Bias));
        }

        return Node("Conv", inputs, path,
            Attr("kernel_shape", conv.KernelSize.H, conv.KernelSize.W), Attr("strides", conv.Stride.H, conv.Stride.W),
            Attr("pads", conv.Padding.H, conv.Padding.W, conv.Padding.H, conv.Padding.W),
            Attr("dilations", conv.Dilation.H, conv.Dilation.W), Attr("group", conv.Groups));
    }

    /// <summary>An inference-mode batch norm over axis 1 (missing affine parameters are 1 and 0).</summary>
    public string BatchNorm(BatchNorm bn, string input)
    {
        ArgumentNullException.ThrowIfNull(bn);
        var path = PathOf(bn);
        if (bn.RunningMean is null || bn.RunningVar is null)
        {
            throw new OnnxExportException(path, $"cannot export module '{path}' ({bn.GetType().Name}): a batch norm without running statistics normalises by the batch's own");
        }

        var n = bn.NumFeatures;
        var scale = bn.Weight is null ? Weight(path + ".weight", Enumerable.Repeat(1f, (int)n).ToArray(), [n]) : Weight(path + ".weight", bn.Weight);
        var bias = bn.Bias is null ? Weight(path + ".bias", new float[n], [n]) : Weight(path + ".bias", bn.Bias);
        return Node("BatchNormalization", [input, scale, bias, Weight(path + ".running_mean", bn.RunningMean), Weight(path + ".running_var", bn.RunningVar)], path,
            Attr("epsilon", (float)bn.Eps));
    }

    /// <summary>
    /// Adaptive average pooling of an H x W input: one AveragePool when the output divides the input, else the
    /// adaptive windows [floor(i H / out), ceil((i + 1) H / out)) as a mean over rows, then over columns (exact for
    /// rectangular windows).
    /// </summary>
    private string AdaptiveAveragePool(AdaptiveAvgPool2d pool, string input, long height, long width)
    {
        var path = PathOf(pool);
        var (oh, ow) = pool.OutputSize;
        if (height % oh == 0 && width % ow == 0)
        {
            var (kh, kw) = (height / oh, width / ow);
            return Node("AveragePool", [input], path, Attr("kernel_shape", kh, kw), Attr("strides", kh, kw));
        }

        string Along(string x, long axis, long size, long outputs)
        {
            var parts = new List<string>();
            for (var i = 0L; i < outputs; i++)
            {
                var start = i * size / outputs;
                var end = ((i + 1) * size + outputs - 1) / outputs;
                parts.Add(Node("ReduceMean", [Narrow(x, axis, start, end - start, path)], path, Attr("axes", [axis]), Attr("keepdims", 1L)));
            }

            return Concat(parts, axis, path);
        }

        return Along(Along(input, 2, height, oh), 3, width, ow);
    }

    private string Gemm(Linear linear, string input)
    {
        var path = PathOf(linear);
        List<string> inputs = [input, Weight(path + ".weight", linear.Weight)];
        if (linear.Bias is not null)
        {
            inputs.Add(Weight(path + ".bias", linear.Bias));
        }

        return Node("Gemm", inputs, path, Attr("transB", 1));
    }

    private string LayerNorm(LayerNorm norm, string input)
    {
        var path = PathOf(norm);
        if (norm.Weight is null)
        {
            throw new OnnxExportException(path, $"cannot export module '{path}' (LayerNorm without affine parameters)");
        }

        var inputs = new List<string> { input, Weight(path + ".weight", norm.Weight) };
        if (norm.Bias is not null)
        {
            inputs.Add(Weight(path + ".bias", norm.Bias));
        }

        return Node("LayerNormalization", inputs, path, Attr("axis", -(long)norm.Weight.Shape.Length), Attr("epsilon", (float)norm.Eps));
    }

    /// <summary>
    /// A group norm as opset 17 allows it (GroupNormalization came in opset 18), the way PyTorch's exporter writes it
    /// below that opset: the input reshaped to [N, G, -1], InstanceNormalization with unit scale and zero bias (each
    /// group's mean and variance), reshaped back to the input's shape, then times the weight and plus the bias
    /// unsqueezed to [C, 1, 1].
    /// </summary>
    private string GroupNorm(GroupNorm norm, string input)
    {
        var path = PathOf(norm);
        var groups = norm.NumGroups;
        var grouped = Reshape(input, path, 0, groups, -1);
        var normalized = Node("InstanceNormalization",
            [grouped, Weight(path + ".group_scale", Enumerable.Repeat(1f, (int)groups).ToArray(), [groups]), Weight(path + ".group_bias", new float[groups], [groups])],
            path, Attr("epsilon", (float)norm.Eps));
        var y = Node("Reshape", [normalized, Node("Shape", [input], path)], path);
        var axes = Int64s(path + ".axes", 1, 2);
        if (norm.Weight is not null)
        {
            y = Node("Mul", [y, Node("Unsqueeze", [Weight(path + ".weight", norm.Weight), axes], path)], path);
        }

        return norm.Bias is null ? y : Add(y, Node("Unsqueeze", [Weight(path + ".bias", norm.Bias), axes], path), path);
    }

    private string Resize(string x, string like, string hint, params AttributeProto[] attributes)
    {
        var sizes = Concat([ShapeSlice(x, 0, 2, hint), ShapeSlice(like, 2, 4, hint)], 0, hint);
        return Node("Resize", [x, string.Empty, string.Empty, sizes], hint, attributes);
    }

    private string TransformerLayer(TransformerEncoderLayer layer, string input)
    {
        var path = PathOf(layer);
        if (layer.NormFirst)
        {
            var x = Add(input, SelfAttention(layer.SelfAttn, LayerNorm(layer.Norm1, input)), path);
            return Add(x, FeedForward(layer, LayerNorm(layer.Norm2, x)), path);
        }

        var y = LayerNorm(layer.Norm1, Add(input, SelfAttention(layer.SelfAttn, input), path));
        return LayerNorm(layer.Norm2, Add(y, FeedForward(layer, y), path));
    }

    private string FeedForward(TransformerEncoderLayer layer, string input)
    {
        var path = PathOf(layer);
        var h = LinearAnyRank(layer.Linear1, input);
        if (layer.UsesGelu)
        {
            // The exact GELU, x * (1 + erf(x / sqrt 2)) / 2: opset 17 has no Gelu operator.
            var erf = Node("Erf", [Node("Mul", [h, Scalar(path + ".inv_sqrt2", (float)(1 / Math.Sqrt(2)))], path)], path);
            var onePlus = Add(erf, Scalar(path + ".one", 1f), path);
            h = Node("Mul", [Node("Mul", [h, onePlus], path), Scalar(path + ".half", 0.5f)], path);
        }
        else
        {
            h = Relu(h, path);
        }

        return LinearAnyRank(layer.Linear2, h);
    }

    private string SelfAttention(MultiheadAttention attention, string input)
    {
        var path = PathOf(attention);
        var d = attention.EmbedDim;
        var heads = attention.NumHeads;
        var head = d / heads;
        var x = attention.BatchFirst ? input : Transpose(input, path, 1, 0, 2);
        var w = ToFloats(attention.InProjWeight);
        var b = attention.InProjBias is null ? null : ToFloats(attention.InProjBias);
        string Project(int part, string name)
        {
            var transposed = new float[d * d];
            for (var o = 0; o < d; o++)
            {
                for (var i = 0; i < d; i++)
                {
                    transposed[(i * d) + o] = w[((part * d) + o) * d + i];
                }
            }

            var y = Node("MatMul", [x, Weight($"{path}.{name}_proj_weight_t", transposed, [d, d])], path);
            if (b is not null)
            {
                y = Add(y, Weight($"{path}.{name}_proj_bias", b.AsSpan((int)(part * d), (int)d).ToArray(), [d]), path);
            }

            // [N, L, D] -> [N, heads, L, D / heads]
            return Transpose(Reshape(y, path, 0, 0, heads, head), path, 0, 2, 1, 3);
        }

        var q = Project(0, "q");
        var k = Project(1, "k");
        var v = Project(2, "v");
        var scores = Node("MatMul", [Node("Mul", [q, Scalar(path + ".scale", (float)(1 / Math.Sqrt(head)))], path), Transpose(k, path, 0, 1, 3, 2)], path);
        var weights = Node("Softmax", [scores], path, Attr("axis", -1L));
        var attended = Node("MatMul", [weights, v], path);
        var merged = Reshape(Transpose(attended, path, 0, 2, 1, 3), path, 0, 0, d);
        var output = LinearAnyRank(attention.OutProj, merged);
        return attention.BatchFirst ? output : Transpose(output, path, 1, 0, 2);
    }
}

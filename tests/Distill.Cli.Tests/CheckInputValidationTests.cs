using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Distill.NN.Checkpoints;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// `distill check` accepts exactly the inputs its --describe lists, and refuses anything else with one line naming
/// the tensor, its shape and the expected one (exit code 2, never a stack trace or a raw libtorch error).
/// </summary>
public sealed partial class CheckInputValidationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-check-inputs-").FullName;

    // Every method, described (without --inputs) on the example networks of the first task it applies to: a
    // segmentation-only method such as skd on logit maps [B, K, h, w] with masks.
    public static TheoryData<string> Methods => [.. Distill.Methods.MethodFactory.Descriptors.Select(d => d.Name)];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [MemberData(nameof(Methods))]
    public void DescribedInputs_FedBackIntoCheck_Succeed(string method)
    {
        var inputs = Write(Described(method, []));
        var (code, _, error) = Invoke(["check", "--method", method, "--inputs", inputs, "--output", Path.Combine(_directory, "out.safetensors")]);
        Assert.True(code == 0, $"{method}: {error}");
    }

    [Fact]
    public void DescribeWithInputs_ShowsTheShapesOfTheFile()
    {
        using var scope = DisposeScope.Enter();
        var inputs = Write([
            new("student.logits", Tensor.Zeros([2, 7])), new("labels", Tensor.From(new long[] { 0, 1 }, 2)), new("teacher.logits", Tensor.Zeros([2, 7])),
            new("student.stage2", Tensor.Zeros([2, 8, 4, 4])), new("teacher.stage2", Tensor.Zeros([2, 12, 4, 4])),
        ]);
        var (code, output, error) = Invoke(["check", "--method", "fitnet", "--describe", "--inputs", inputs]);
        Assert.True(code == 0, error);
        Assert.Contains($"inputs (shapes from {inputs}", output, StringComparison.Ordinal);
        Assert.Contains("student.logits [B, 7] Float32", output, StringComparison.Ordinal);
        Assert.Contains("student.stage2 [B, 8, 4, 4] Float32", output, StringComparison.Ordinal);
        Assert.Contains("teacher.stage2 [B, 12, 4, 4] Float32", output, StringComparison.Ordinal);
        Assert.DoesNotContain("resnet8", output, StringComparison.Ordinal);
        Assert.Matches(@"\[12, 8, (3, 3|1, 1)\] Float32", output);
    }

    [Fact]
    public void Crd_WithoutIndices_IsAnErrorNamingIndices()
    {
        var inputs = Write(Described("crd", ["nce_k=8"]).Where(t => t.Key != "indices").ToList());
        var (code, _, error) = Invoke(["check", "--method", "crd", "--set", "nce_k=8", "--inputs", inputs, "--output", Path.Combine(_directory, "o")]);
        Assert.Equal(2, code);
        Assert.Contains("tensor 'indices' is missing (expected [B] Int64", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Epoch_BelowOne_IsRefused(int epoch)
    {
        var inputs = Write(Described("dkd", []));
        var (code, _, error) = Invoke(["check", "--method", "dkd", "--epoch", epoch.ToString(CultureInfo.InvariantCulture), "--inputs", inputs, "--output", Path.Combine(_directory, "o")]);
        Assert.Equal(2, code);
        Assert.Equal("error: --epoch must be at least 1", error.Split('\n')[0].Trim());
    }

    /// <summary>(case, method, options, change to the described inputs, text the one-line message must contain).</summary>
    public static TheoryData<string, string, string[], string, string> BadInputs => new()
    {
        { "zero channels", "fitnet", [], "student.stage2=[2,0,16,16]", "tensor 'student.stage2' is [2, 0, 16, 16] Float32, expected every size at least 1" },
        { "empty batch", "kd", [], "student.logits=[0,100]", "tensor 'student.logits' is [0, 100] Float32" },
        { "map of rank 2", "at", [], "student.stage1=[2,16]", "tensor 'student.stage1' is [2, 16] Float32, expected [2, C, H, W] or [2, tokens, C]" },
        { "map of rank 5", "fitnet", [], "teacher.stage2=[2,32,16,16,1]", "tensor 'teacher.stage2' is [2, 32, 16, 16, 1] Float32, expected [2, C, H, W]" },
        { "batch disagrees", "cwd", [], "teacher.stage3=[3,64,8,8]", "tensor 'teacher.stage3' is [3, 64, 8, 8] Float32, expected [2, C, H, W]" },
        { "teacher logits classes", "kd", [], "teacher.logits=[2,99]", "tensor 'teacher.logits' is [2, 99] Float32, expected [2, 100]" },
        { "float64 logits", "kd", [], "student.logits=[2,100]:f64", "tensor 'student.logits' is [2, 100] Float64, expected [B, K] Float32" },
        { "int32 labels", "kd", [], "labels=[2]:i32", "tensor 'labels' is [2] Int32, expected [2] Int64" },
        { "labels per batch", "kd", [], "labels=[3]:i64", "tensor 'labels' is [3] Int64, expected [2] Int64" },
        { "label out of range", "kd", [], "labels=[2]:i64=100", "tensor 'labels' holds values from 100 to 100; expected class indices in [0, 100)" },
        { "NaN logits", "kd", [], "student.logits=[2,100]:nan", "tensor 'student.logits' [2, 100] holds NaN or infinite values" },
        { "head of wrong width", "sdd", [], "student.head.weight=[100,63]", "tensor 'student.head.weight' is [100, 63] Float32, expected [100, 64] Float32" },
        { "bn of wrong length", "ofd", [], "teacher.stage2.bn.weight=[31]", "tensor 'teacher.stage2.bn.weight' is [31] Float32, expected [32] Float32" },
        { "map the method does not read", "kd", [], "student.stage9=[2,4,2,2]", "tensor 'student.stage9' is not an input of kd" },
        { "typo in a name", "kd", [], "techer.logits=[2,100]", "tensor 'techer.logits' is not an input of kd" },
        { "indices out of range", "crd", ["nce_k=8"], "indices=[2]:i64=50000", "tensor 'indices' holds values from 50000 to 50000; expected data-set indices" },
        { "parameter of wrong shape", "fitnet", [], "method.regressor.0.weight=[1]", "method.regressor.0.weight is [1] Float32, expected [32, 32, 1, 1] Float32" },
        { "draw of wrong shape", "mgd", [], "random.mask=[2,1,1,1]", "random.mask has shape [2, 1, 1, 1], expected [2, 64, 1, 1]" },
        { "draw given as another dtype", "crd", ["nce_k=8"], "random.contrast=[2,9]:f64", "random.contrast" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_IsRefusedWithOneLineNamingTheTensor(string name, string method, string[] options, string change, string expected)
    {
        var tensors = Described(method, options);
        var (key, shape, dtype, fill) = ParseChange(change);
        var index = tensors.FindIndex(t => t.Key == key);
        var value = Make(key, shape, dtype, fill);
        if (index >= 0)
        {
            tensors[index] = new(key, value);
        }
        else
        {
            tensors.Add(new(key, value));
        }

        var inputs = Write(tensors);
        var (code, output, error) = Invoke(["check", "--method", method, .. options.SelectMany(o => new[] { "--set", o }), "--inputs", inputs, "--output", Path.Combine(_directory, "o")]);
        Assert.True(code == 2, $"{name}: exit {code}: {output}{error}");
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every described input of every method, broken in each way a tester would (dropped, another dtype, one more
    /// dimension, an empty dimension, another batch size, a larger size): exit code 2 with one line, never another
    /// exception; the ways that cannot fit name the tensor.
    /// </summary>
    [Theory]
    [MemberData(nameof(Methods))]
    public void EveryDescribedInput_BrokenInAnyWay_IsRefusedWithOneLine(string method)
    {
        string[] options = method == "crd" ? ["nce_k=8"] : [];
        var described = Described(method, options);
        var names = described.Select(t => t.Key).ToArray();
        var failures = new List<string>();
        foreach (var name in names)
        {
            foreach (var way in new[] { "missing", "dtype", "rank", "empty", "batch", "larger" })
            {
                var tensors = described.ToList();
                var index = tensors.FindIndex(t => t.Key == name);
                var original = tensors[index].Value;
                var shape = original.Shape;
                using var scope = DisposeScope.Enter();
                if (way == "missing")
                {
                    tensors.RemoveAt(index);
                }
                else if (way == "batch" && !IsBatched(name))
                {
                    continue;
                }
                else
                {
                    long[] changed = way switch
                    {
                        "rank" => [.. shape, 1],
                        "empty" => [.. shape[..^1], 0],
                        "batch" => [3, .. shape[1..]],
                        "larger" => [.. shape[..^1], shape[^1] + 1],
                        _ => shape,
                    };
                    var value = original.DType == DType.Int64 ? Tensor.Zeros(changed).To(DType.Int64) : Tensor.Randn(changed);
                    tensors[index] = new(name, way == "dtype" ? (original.DType == DType.Int64 ? Tensor.Zeros(shape).To(DType.Int32) : Tensor.Randn(shape).To(DType.Float64)) : value);
                }

                var inputs = Write(tensors, dispose: false);
                var (code, output, error) = Invoke(["check", "--method", method, .. options.SelectMany(o => new[] { "--set", o }), "--inputs", inputs, "--output", Path.Combine(_directory, "o")]);
                // A larger size may fit (the file's shapes build the method); a dropped stage may leave a method that
                // defaults to every stage of the file with fewer stages; B comes from student.logits, so changing it names the tensor that then disagrees.
                var mustName = way is "dtype" or "rank" or "empty" || (way == "batch" && name != "student.logits");
                var mayFit = way == "larger" || (way == "missing" && name.StartsWith("student.stage", StringComparison.Ordinal));
                if (!(code == 2 || (code == 0 && mayFit)) || (code == 2 && (error.Trim().Split('\n').Length != 1 || error.Contains("Exception", StringComparison.Ordinal)
                    || (mustName && !error.Contains($"'{name}'", StringComparison.Ordinal)))))
                {
                    failures.Add($"{name} {way}: exit {code}: {(output + error).Trim()}");
                }
            }
        }

        foreach (var t in described)
        {
            t.Value.Dispose();
        }

        Assert.True(failures.Count == 0, $"{method}:\n" + string.Join("\n", failures));
    }

    private static bool IsBatched(string name) =>
        name is "labels" or "indices" || ((name.StartsWith("student.", StringComparison.Ordinal) || name.StartsWith("teacher.", StringComparison.Ordinal)) && !name.Contains(".head.", StringComparison.Ordinal) && !name.Contains(".bn.", StringComparison.Ordinal));

    [Fact]
    public void OutputThatCannotBeWritten_IsOneLineNamingIt()
    {
        var inputs = Write(Described("kd", []));
        var (code, _, error) = Invoke(["check", "--method", "kd", "--inputs", inputs, "--output", _directory]);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {_directory}: cannot be written: ", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void ConfigurationError_CarriesNoFeatureMapHint_ButAMissingTapDoes()
    {
        var inputs = Write(Described("matching", []));
        var (code, _, error) = Invoke(["check", "--method", "matching", "--set", "divisors=[1]", "--inputs", inputs, "--output", Path.Combine(_directory, "o")]);
        Assert.Equal(2, code);
        Assert.Contains("matching: 1 divisors for 3 stages", error, StringComparison.Ordinal);
        Assert.DoesNotContain("feature maps are given", error, StringComparison.Ordinal);
        (code, _, error) = Invoke(["check", "--method", "fitnet", "--set", "tap=stage7", "--inputs", inputs, "--output", Path.Combine(_directory, "o")]);
        Assert.Equal(2, code);
        Assert.Contains("stage7", error, StringComparison.Ordinal);
        Assert.Contains("feature maps are given as student.<tap> and teacher.<tap>", error, StringComparison.Ordinal);
    }

    private static (string Key, long[] Shape, string DType, string? Fill) ParseChange(string change)
    {
        var m = ChangePattern().Match(change);
        Assert.True(m.Success, change);
        var shape = m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        var fill = m.Groups[4].Success ? m.Groups[4].Value : null;
        return (m.Groups[1].Value, shape, m.Groups[3].Success ? m.Groups[3].Value : "f32", fill);
    }

    private static Tensor Make(string key, long[] shape, string dtype, string? fill)
    {
        using var scope = DisposeScope.Enter();
        var t = dtype switch
        {
            "f64" => Tensor.Randn(shape).To(DType.Float64),
            "nan" => Tensor.Randn(shape) / 0.0 * 0.0,
            "i32" => Tensor.Zeros(shape).To(DType.Int32),
            "i64" => Tensor.Zeros(shape).To(DType.Int64) + long.Parse(fill ?? "0", CultureInfo.InvariantCulture),
            _ => Tensor.Randn(shape),
        };
        return t.DetachFromScope();
    }

    /// <summary>The inputs `distill check --describe` lists for the method, made with batch 2: floats from N(0, 1), integers i mod the stated bound.</summary>
    private List<KeyValuePair<string, Tensor>> Described(string method, string[] options)
    {
        var (code, output, error) = Invoke(["check", "--method", method, "--describe", .. options.SelectMany(o => new[] { "--set", o })]);
        Assert.True(code == 0, error);
        var lines = output.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("inputs", StringComparison.Ordinal)) + 1;
        var end = Array.FindIndex(lines, l => l.StartsWith("parameters", StringComparison.Ordinal));
        var result = new List<KeyValuePair<string, Tensor>>();
        TorchRuntime.ManualSeed(0);
        using var scope = DisposeScope.Enter();
        foreach (var line in lines[start..end])
        {
            var m = InputLine().Match(line);
            Assert.True(m.Success, $"{method}: unparsable input line '{line}'");
            var shape = m.Groups[2].Value.Split(", ").Select(d => d == "B" ? 2 : long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            // A detection step's boxes must be real boxes inside real images: one box (1, 1, 5, 5) per image in 96x96.
            var t = m.Groups[1].Value switch
            {
                "boxes" => Tensor.From(Enumerable.Range(0, (int)count).Select(i => i % 4 < 2 ? 1f : 5f).ToArray(), shape),
                "box_counts" => Tensor.Ones(shape, DType.Int64),
                "image_sizes" => Tensor.Full(shape, 96, DType.Int64),
                "box_crowd" => Tensor.Zeros(shape, DType.Int64),
                _ => null,
            } ?? m.Groups[3].Value switch
            {
                "Float32" => Tensor.Randn(shape),
                "Int64" => Tensor.From(Enumerable.Range(0, (int)count).Select(i => (long)i % long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture)).ToArray(), shape),
                var other => throw new InvalidOperationException($"{method}: dtype {other} in '{line}'"),
            };
            result.Add(new(m.Groups[1].Value, t.DetachFromScope()));
        }

        return result;
    }

    private string Write(List<KeyValuePair<string, Tensor>> tensors, bool dispose = true)
    {
        var path = Path.Combine(_directory, "in.safetensors");
        SafeTensors.Save(path, tensors);
        foreach (var t in dispose ? tensors : [])
        {
            t.Value.Dispose();
        }

        return path;
    }

    private static (int Code, string Output, string Error) Invoke(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliRunner.Run(args, output, error, _ => null);
        return (code, output.ToString(), error.ToString());
    }

    [GeneratedRegex(@"^  (\S+) \[([^\]]*)\] (\w+)(?: \(.*?in \[0, (\d+)\).*\)| \(.*\))?$")]
    private static partial Regex InputLine();

    [GeneratedRegex(@"^([^=]+)=\[([\d,]*)\](?::(\w+))?(?:=(\d+))?$")]
    private static partial Regex ChangePattern();
}

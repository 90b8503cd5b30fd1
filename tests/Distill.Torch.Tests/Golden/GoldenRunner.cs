using Distill.Testing;
using Distill.Torch;
using Xunit.Sdk;

namespace Distill.Torch.Tests.Golden;

/// <summary>Runs a golden case through Distill and compares outputs and gradients with PyTorch's.</summary>
public static class GoldenRunner
{
    /// <summary>Where the inputs go (the CPU in the tests; eng/gpu's check runs the same cases on CUDA).</summary>
    public static Device Device { get; set; } = Device.Cpu;

    public static void Run(string name, IReadOnlyDictionary<string, GoldenOp> ops)
    {
        var golden = GoldenFixture.Case(name);
        if (!ops.TryGetValue(name, out var op))
        {
            throw new XunitException($"golden case {name} has no Distill implementation in the test's op table");
        }

        using var scope = DisposeScope.Enter();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in golden.Inputs)
        {
            var t = value.ToTensor();
            if (Device != Device.Cpu)
            {
                t = t.To(Device);
            }

            if (golden.RequiresGrad.Contains(key))
            {
                t.RequiresGrad = true;
            }

            tensors[key] = t;
        }

        var outputs = op(new GoldenInputs(tensors));
        if (outputs.Length != golden.Outputs.Count)
        {
            throw new XunitException($"{name}: {outputs.Length} outputs, PyTorch gives {golden.Outputs.Count}");
        }

        // One op: no reduction in it sums more terms than its largest input has elements, so float32 results
        // get torch's default plus one reduction of that length, gradients two (forward and backward);
        // float64 and integer results their dtype's default (GoldenTolerance).
        var longest = golden.Inputs.Values.Concat(golden.GradOutputs.Values).Select(t => (long)t.Values.Length).DefaultIfEmpty(1).Max();
        GoldenTolerance Tolerance(GoldenTensor expected, int reductions) => expected.DType == DType.Float32
            ? GoldenTolerance.Float32Chain(Enumerable.Repeat(longest, reductions), name)
            : GoldenTolerance.For(expected.DType);
        for (var i = 0; i < outputs.Length; i++)
        {
            var expected = golden.Outputs[$"out{i}"];
            expected.AssertMatches(outputs[i], $"{name} out{i}", Tolerance(expected, 1));
        }

        if (golden.Grads.Count == 0)
        {
            return;
        }

        var roots = new List<Tensor>();
        var grads = new List<Tensor?>();
        foreach (var (key, value) in golden.GradOutputs)
        {
            roots.Add(outputs[int.Parse(key.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture)]);
            grads.Add(value.ToTensor().To(Device));
        }

        Autograd.Backward(roots.ToArray(), grads.ToArray());
        foreach (var (key, expected) in golden.Grads)
        {
            var grad = tensors[key].Grad ?? throw new XunitException($"{name}: input {key} has no gradient, PyTorch computes one");
            expected.AssertMatches(grad, $"{name} grad of {key}", Tolerance(expected, 2));
        }
    }
}

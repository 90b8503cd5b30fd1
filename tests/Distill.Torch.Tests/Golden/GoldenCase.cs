using Distill.Testing;
using System.Text.Json;

namespace Distill.Torch.Tests.Golden;

/// <summary>One recorded op: inputs, which of them require grad, outputs, upstream gradients and input gradients.</summary>
public sealed class GoldenCase
{
    private GoldenCase(string name, JsonElement e)
    {
        Name = name;
        Inputs = Read(e, "inputs");
        RequiresGrad = e.GetProperty("requires_grad").EnumerateArray().Select(v => v.GetString()!).ToArray();
        Outputs = Read(e, "outputs");
        GradOutputs = Read(e, "grad_outputs");
        Grads = Read(e, "grads");
    }

    public string Name { get; }

    public IReadOnlyDictionary<string, GoldenTensor> Inputs { get; }

    public IReadOnlyList<string> RequiresGrad { get; }

    public IReadOnlyDictionary<string, GoldenTensor> Outputs { get; }

    public IReadOnlyDictionary<string, GoldenTensor> GradOutputs { get; }

    public IReadOnlyDictionary<string, GoldenTensor> Grads { get; }

    public static GoldenCase Parse(string name, JsonElement e) => new(name, e);

    private static Dictionary<string, GoldenTensor> Read(JsonElement e, string property)
    {
        var result = new Dictionary<string, GoldenTensor>(StringComparer.Ordinal);
        if (e.TryGetProperty(property, out var p))
        {
            foreach (var item in p.EnumerateObject())
            {
                result[item.Name] = GoldenTensor.Parse(item.Value);
            }
        }

        return result;
    }
}

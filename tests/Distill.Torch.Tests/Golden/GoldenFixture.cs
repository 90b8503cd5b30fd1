using System.Text.Json;
using Distill.Testing;
using Xunit;

namespace Distill.Torch.Tests.Golden;

/// <summary>The committed golden values (tests/Fixtures/torch_ops.json, made by eng/golden/torch_ops.py).</summary>
public static class GoldenFixture
{
    private static readonly Lazy<IReadOnlyDictionary<string, GoldenCase>> Loaded = new(Load);

    public static IReadOnlyDictionary<string, GoldenCase> Cases => Loaded.Value;

    public static GoldenCase Case(string name) =>
        Cases.TryGetValue(name, out var c) ? c : throw new KeyNotFoundException($"no golden case '{name}': rerun eng/golden/torch_ops.py");

    /// <summary>Names of the cases whose name starts with <paramref name="prefix"/>, for a theory.</summary>
    public static TheoryData<string> CaseNames(string prefix)
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            data.Add(name);
        }

        return data;
    }

    private static IReadOnlyDictionary<string, GoldenCase> Load()
    {
        var path = FixtureFiles.PathOf("torch_ops.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var cases = new Dictionary<string, GoldenCase>(StringComparer.Ordinal);
        foreach (var item in document.RootElement.GetProperty("cases").EnumerateObject())
        {
            cases[item.Name] = GoldenCase.Parse(item.Name, item.Value);
        }

        return cases;
    }
}

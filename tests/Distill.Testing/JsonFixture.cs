using System.Text.Json;
using Xunit;

namespace Distill.Testing;

/// <summary>A committed JSON fixture (tests/Fixtures/*.json, copied beside the test assembly, or from <see cref="FixtureFiles.Directory"/>), parsed once.</summary>
public sealed class JsonFixture
{
    private readonly Lazy<JsonDocument> _document;

    /// <summary>Refers to <paramref name="fileName"/> in <see cref="FixtureFiles.Directory"/>.</summary>
    public JsonFixture(string fileName) =>
        _document = new(() => JsonDocument.Parse(File.ReadAllBytes(FixtureFiles.PathOf(fileName))));

    /// <summary>The parsed root.</summary>
    public JsonElement Root => _document.Value.RootElement;

    /// <summary>The names of an object's properties as theory data (the root's when no element is given).</summary>
    public TheoryData<string> Names(JsonElement? element = null)
    {
        var data = new TheoryData<string>();
        foreach (var p in (element ?? Root).EnumerateObject())
        {
            data.Add(p.Name);
        }

        return data;
    }
}

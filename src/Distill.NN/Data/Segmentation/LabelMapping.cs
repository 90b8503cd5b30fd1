namespace Distill.NN.Data.Segmentation;

/// <summary>
/// How stored label values become class indices: unchanged, Cityscapes label ids to train ids, or an explicit table
/// (stored value -> class index; values the table does not list become 255, ignored).
/// </summary>
public sealed class LabelMapping
{
    private readonly byte[]? _table;

    private LabelMapping(string name, byte[]? table)
    {
        Name = name;
        _table = table;
    }

    /// <summary>Values are the class indices already.</summary>
    public static LabelMapping None { get; } = new("none", null);

    /// <summary>Cityscapes label ids (0-33) to the 19 train ids (<see cref="CityscapesLabels"/>), everything else 255.</summary>
    public static LabelMapping Cityscapes { get; } = new("cityscapes", CityscapesLabels.TrainIds());

    /// <summary>"none", "cityscapes" or "table".</summary>
    public string Name { get; }

    /// <summary>The mapping of a name: "none" or "cityscapes" (case-insensitive); tables are given with <see cref="FromTable"/>.</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static LabelMapping FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            "none" => None,
            "cityscapes" => Cityscapes,
            _ => throw new ArgumentException($"unknown label mapping '{name}'; known: none, cityscapes (or an explicit table of stored value -> class index)", nameof(name)),
        };
    }

    /// <summary>An explicit table: stored value -> class index (0-255; 255 ignores); unlisted values become 255.</summary>
    /// <exception cref="ArgumentException">A key or value outside 0-255.</exception>
    public static LabelMapping FromTable(IReadOnlyDictionary<int, int> table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var lookup = new byte[256];
        Array.Fill(lookup, Mask.Ignore);
        foreach (var (from, to) in table)
        {
            if (from is < 0 or > 255 || to is < 0 or > 255)
            {
                throw new ArgumentException($"label mapping {from} -> {to}: stored values and class indices are 0 to 255 (255 ignores)", nameof(table));
            }

            lookup[from] = (byte)to;
        }

        return new LabelMapping("table", lookup);
    }

    /// <summary>Maps the values in place.</summary>
    public void Apply(Span<byte> values)
    {
        if (_table is null)
        {
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] = _table[values[i]];
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

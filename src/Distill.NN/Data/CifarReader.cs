namespace Distill.NN.Data;

/// <summary>
/// Reads the CIFAR binary format: per record, a label byte (CIFAR-10), or coarse then fine label bytes
/// (CIFAR-100), then 3072 bytes of pixels (1024 red, 1024 green, 1024 blue, row-major 32x32).
/// </summary>
public static class CifarReader
{
    private const int PixelBytes = 3 * 32 * 32;

    /// <summary>Reads CIFAR-10 batch files (data_batch_1.bin ... or test_batch.bin).</summary>
    public static InMemoryImageDataset LoadCifar10(IEnumerable<string> files, IReadOnlyList<string>? classes = null) =>
        Load(files, labelBytes: 1, labelOffset: 0, classes ?? Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

    /// <summary>Reads CIFAR-100 files (train.bin, test.bin) with fine labels (100 classes) or coarse ones (20 superclasses).</summary>
    public static InMemoryImageDataset LoadCifar100(IEnumerable<string> files, bool coarseLabels = false, IReadOnlyList<string>? classes = null) =>
        Load(files, labelBytes: 2, labelOffset: coarseLabels ? 0 : 1,
            classes ?? Enumerable.Range(0, coarseLabels ? 20 : 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

    private static InMemoryImageDataset Load(IEnumerable<string> files, int labelBytes, int labelOffset, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(files);
        var record = labelBytes + PixelBytes;
        var pixels = new MemoryStream();
        var labels = new List<int>();
        foreach (var path in files)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataFormatException($"{path}: cannot be read: {e.Message}", e);
            }

            if (bytes.Length % record != 0)
            {
                var whole = bytes.Length / record;
                throw new DataFormatException(
                    $"{path}: {bytes.Length} bytes is not a whole number of {record}-byte records: record {whole} (at byte {whole * record}) is truncated; is this CIFAR-{(labelBytes == 1 ? "10" : "100")}?");
            }

            for (var offset = 0; offset < bytes.Length; offset += record)
            {
                var label = bytes[offset + labelOffset];
                if (label >= classes.Count)
                {
                    throw new DataFormatException($"{path}: label {label} at byte {offset + labelOffset} is outside the {classes.Count} classes; is this CIFAR-{(labelBytes == 1 ? "10" : "100")}?");
                }

                labels.Add(label);
                pixels.Write(bytes, offset + labelBytes, PixelBytes);
            }
        }

        return new InMemoryImageDataset(pixels.ToArray(), labels.ToArray(), 3, 32, 32, classes);
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Distill.NN.Data;

namespace Distill.Engine.SoftLabels;

/// <summary>
/// What a soft-label store was built from: the teacher checkpoint (SHA-256 of the file), the training set (name, root,
/// count and a hash of its labels, classes and a spread of its images), the transform recipe (its canonical description),
/// the draws per image and the top-k. A store answers only to the same key; any difference is named.
/// </summary>
/// <param name="TeacherModel">The teacher's model name.</param>
/// <param name="TeacherSha256">SHA-256 of the teacher checkpoint file, hex.</param>
/// <param name="Dataset">The data set's name (data.dataset).</param>
/// <param name="DatasetRoot">Where it was read from (data.root, or the default folder).</param>
/// <param name="DatasetCount">Training images.</param>
/// <param name="DatasetHash">SHA-256 of the classes, every label and the pixels of up to <see cref="HashedImages"/> evenly spread images.</param>
/// <param name="Transforms">The training transforms' canonical description (<see cref="TransformDraw.Describe"/>).</param>
/// <param name="Draws">Draws per image (M).</param>
/// <param name="TopK">Teacher classes kept per draw (0: the full logits).</param>
public sealed record SoftLabelKey(string TeacherModel, string TeacherSha256, string Dataset, string DatasetRoot, int DatasetCount, string DatasetHash,
    string Transforms, int Draws, int TopK)
{
    /// <summary>How many images (evenly spread) the data-set hash reads the pixels of, besides every label.</summary>
    public const int HashedImages = 64;

    private const string Prefix = "soft_labels.";

    /// <summary>The key as metadata entries.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => Fields().ToDictionary(f => Prefix + f.Name, f => f.Value, StringComparer.Ordinal);

    /// <summary>The key a store's metadata records.</summary>
    /// <exception cref="FormatException">An entry is missing or not a number where one is expected.</exception>
    public static SoftLabelKey FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string Get(string name) => metadata.TryGetValue(Prefix + name, out var v) ? v : throw new FormatException($"{path}: not a soft-label store (its metadata lacks {Prefix}{name})");
        int Int(string name) => int.TryParse(Get(name), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"{path}: {Prefix}{name} is not a count");
        return new SoftLabelKey(Get("teacher_model"), Get("teacher_sha256"), Get("dataset"), Get("dataset_root"), Int("dataset_count"), Get("dataset_hash"),
            Get("transforms"), Int("draws"), Int("top_k"));
    }

    /// <summary>Each field that differs from <paramref name="other"/>, as "what: here vs there".</summary>
    public IReadOnlyList<string> Differences(SoftLabelKey other, string hereName, string otherName)
    {
        ArgumentNullException.ThrowIfNull(other);
        return [.. Fields().Zip(other.Fields()).Where(p => p.First.Value != p.Second.Value)
            .Select(p => $"{Describe(p.First.Name)}: {hereName} {p.First.Value}, {otherName} {p.Second.Value}")];
    }

    /// <summary>SHA-256 of a file's bytes, hex.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The data-set hash: classes, every label (class-labelled sets) and the pixels of up to <see cref="HashedImages"/> evenly spread images.</summary>
    public static string DatasetSha256(IImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(string.Join('\n', dataset.Classes) + "\n" + dataset.Count.ToString(CultureInfo.InvariantCulture) + "\n"));
        var labels = new int[dataset.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = dataset.LabelOf(i);
        }

        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()));
        var images = Math.Min(HashedImages, dataset.Count);
        for (var k = 0; k < images; k++)
        {
            var image = dataset.Get((int)((long)k * dataset.Count / images)).Image;
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(image.Data.AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Describe(string field) => field switch
    {
        "teacher_sha256" => "the teacher checkpoint (SHA-256)",
        "teacher_model" => "the teacher model",
        "dataset" => "the data set",
        "dataset_root" => "the data set's root",
        "dataset_count" => "the training images",
        "dataset_hash" => "the data set's content (SHA-256 of classes, labels and sampled images)",
        "transforms" => "the training transforms",
        "draws" => "the draws per image",
        _ => "the top-k",
    };

    private IEnumerable<(string Name, string Value)> Fields() =>
    [
        ("teacher_model", TeacherModel), ("teacher_sha256", TeacherSha256), ("dataset", Dataset), ("dataset_root", DatasetRoot),
        ("dataset_count", DatasetCount.ToString(CultureInfo.InvariantCulture)), ("dataset_hash", DatasetHash), ("transforms", Transforms),
        ("draws", Draws.ToString(CultureInfo.InvariantCulture)), ("top_k", TopK.ToString(CultureInfo.InvariantCulture)),
    ];
}

using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Distill.NN.Checkpoints;
using Distill.NN.Optim;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>
/// A corpus of corrupt files, each made from a valid one by editing its header or bytes: every one is refused with a
/// <see cref="CheckpointFormatException"/> naming the file and the field (never another exception type), and a corrupt
/// training checkpoint leaves the model and optimizer as they were.
/// </summary>
public sealed class CheckpointCorruptionTests : IDisposable
{
    // The sample: tensor a [2, 3] I64 at data offsets [0, 48], tensor b [8] F32 at [48, 80].
    private const string Version1 = "version 1";

    private readonly string _directory = Directory.CreateTempSubdirectory("distill-corrupt-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>(case, header edit or raw header, data edit, text the message must contain).</summary>
    public static TheoryData<string, string> HeaderCases => new()
    {
        { "header is an array", "is an array, expected an object of tensors" },
        { "header is null", "is null, expected an object of tensors" },
        { "header is a number", "is the number 42, expected an object of tensors" },
        { "header names a tensor twice", "the header names 'a' twice" },
        { "metadata is an array", "header field '__metadata__' is an array, expected an object of strings" },
        { "metadata is null", "header field '__metadata__' is null, expected an object of strings" },
        { "metadata value is a number", "metadata 'note' is the number 3, expected a string" },
        { "metadata value is an object", "metadata 'note' is an object, expected a string" },
        { "checksums are not JSON", "metadata 'distill.xxhash64' is not valid JSON" },
        { "checksums are an array", "metadata 'distill.xxhash64' is an array, expected an object of tensor names to 16 hex digits" },
        { "checksum entry is a number", "metadata 'distill.xxhash64' entry 'a' is the number 5, expected 16 lower-case hex digits" },
        { "checksum entry is short", "metadata 'distill.xxhash64' entry 'a' is the string \"abc\", expected 16 lower-case hex digits" },
        { "checksum for no tensor (v1)", "has a checksum for 'c', which is not a tensor of the file" },
        { "no checksum for a tensor (v1)", "tensor 'b' has no checksum in metadata 'distill.xxhash64'" },
        { "checksums missing", "metadata 'distill.xxhash64' (the tensors' checksums) is missing" },
        { "unknown format version", "metadata 'distill.format_version' is '3'; this build reads versions 1 and 2" },
        { "header checksum missing", "metadata 'distill.header_xxhash64' (the header's checksum) is missing" },
        { "metadata edited without its checksum", "the header (bytes 8.." },
        { "shape edited without its checksum", "the header (bytes 8.." },
        { "entry is a number", "tensor 'a': its header entry is the number 5, expected an object" },
        { "dtype missing", "tensor 'a': its header entry has no 'dtype'" },
        { "dtype unknown", "tensor 'a': dtype 'F8' is not one Distill reads" },
        { "dtype is a number", "tensor 'a': dtype is the number 7, expected a string" },
        { "shape negative", "tensor 'a': shape[0] is -2, expected an integer >= 0" },
        { "shape fractional", "tensor 'a': shape[1] is 1.5, expected an integer >= 0" },
        { "shape is a string", "tensor 'a': shape is the string \"23\", expected an array of integers >= 0" },
        { "shape beyond 64 bits", "tensor 'a': shape[0] is 18446744073709551616, expected an integer >= 0 (below 2^63)" },
        { "element count overflows", "tensor 'a': shape [4294967296, 4294967296, 4] (I64) has more bytes than a 64-bit count holds" },
        { "size disagrees with shape", "tensor 'a': shape [2, 4] (I64) needs 64 bytes but its data_offsets [0, 48] span 48" },
        { "offsets out of range", "truncated: tensor 'b' needs bytes " },
        { "three offsets", "tensor 'b': data_offsets has 3 values, expected [begin, end]" },
        { "offsets reversed", "tensor 'b': data_offsets [80, 48] end before they begin" },
        { "negative offset", "tensor 'b': data_offsets[0] is -48, expected an integer >= 0" },
        { "bytes after the last tensor", "4 bytes after the last tensor, from byte " },
        { "gap between tensors", "bytes " },
        { "overlapping tensors", "tensor 'b' starts at byte " },
        { "nesting too deep", "the JSON header is corrupt near byte" },
    };

    [Theory]
    [MemberData(nameof(HeaderCases))]
    public void CorruptFile_IsRefusedNamingTheFileAndTheField(string name, string expected)
    {
        var path = Corrupt(name);
        var e = Record.Exception(() => SafeTensors.Load(path)?.Dispose());
        Assert.True(e is CheckpointFormatException, $"{name}: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        Assert.StartsWith(path + ": ", e!.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        if (name == "gap between tensors")
        {
            Assert.Contains("belong to no tensor", e.Message, StringComparison.Ordinal);
        }

        if (name == "overlapping tensors")
        {
            Assert.Contains("overlaps the tensor before it", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void FileOfFormatVersion1_StillLoads_WithItsMetadataUnchecked()
    {
        var path = Edit(Sample(), header => SetVersion1(header), null);
        using var scope = DisposeScope.Enter();
        using var file = SafeTensors.Load(path);
        Assert.Equal([0L, 1, 2, 3, 4, 5], file.Tensors["a"].ToArray<long>());
        Assert.Equal("1", file.Metadata[SafeTensors.FormatVersionKey]);
    }

    [Fact]
    public void EveryMetadataEntry_IsCoveredByTheHeaderChecksum()
    {
        var path = Sample();
        var text = HeaderText(File.ReadAllBytes(path));
        var header = JsonNode.Parse(text)!;
        foreach (var key in header["__metadata__"]!.AsObject().Select(p => p.Key).Where(k => k != SafeTensors.HeaderChecksumKey).ToArray())
        {
            var edited = Edit(path, h => h["__metadata__"]![key] = h["__metadata__"]![key]!.GetValue<string>() + " ", null);
            var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(edited));
            Assert.True(e.Message.Contains("is corrupt or was edited", StringComparison.Ordinal) || e.Message.Contains(key, StringComparison.Ordinal), $"{key}: {e.Message}");
        }
    }

    /// <summary>Training metadata (re-signed, so only its values are wrong): (case, key, value, text the message must contain).</summary>
    public static TheoryData<string, string, string> TrainingCases => new()
    {
        { "distill.epoch", "abc", "metadata 'distill.epoch' is 'abc', expected an integer from 0 to" },
        { "distill.epoch", "-1", "metadata 'distill.epoch' is '-1'" },
        { "distill.epoch", "NaN", "metadata 'distill.epoch' is 'NaN'" },
        { "distill.epoch", "3.5", "metadata 'distill.epoch' is '3.5'" },
        { "distill.epoch", "99999999999", "metadata 'distill.epoch' is '99999999999'" },
        { "distill.scheduler_epoch", "x", "metadata 'distill.scheduler_epoch' is 'x'" },
        { "distill.scheduler_epoch", "-5", "metadata 'distill.scheduler_epoch' is '-5'" },
        { "distill.learning_rates", "abc", "metadata 'distill.learning_rates' is 'abc', not a JSON array" },
        { "distill.learning_rates", "{}", "metadata 'distill.learning_rates' is '{}', expected a JSON array of 1 learning rates" },
        { "distill.learning_rates", "[0.1, 0.2]", "metadata 'distill.learning_rates' has 2 learning rates for 1 parameter groups" },
        { "distill.learning_rates", "[\"a\"]", "metadata 'distill.learning_rates' element 0 is \"a\", expected a finite number >= 0" },
        { "distill.learning_rates", "[-0.1]", "element 0 is -0.1, expected a finite number >= 0" },
        { "distill.learning_rates", "[1e400]", "element 0 is 1e400, expected a finite number >= 0" },
        { "distill.learning_rates", "[NaN]", "metadata 'distill.learning_rates' is '[NaN]', not a JSON array" },
        { "extra.best_accuracy", "NaN", "metadata 'extra.best_accuracy' is 'NaN', expected a number from 0 to 1" },
        { "extra.best_accuracy", "1.5", "metadata 'extra.best_accuracy' is '1.5'" },
        { "extra.best_accuracy", "-0.25", "metadata 'extra.best_accuracy' is '-0.25'" },
        { "extra.best_accuracy", "high", "metadata 'extra.best_accuracy' is 'high'" },
        { "rng.cpu", "[3]", "tensor 'rng.cpu' (the RNG state) is [3] UInt8, expected" },
    };

    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void CorruptTrainingMetadata_IsRefusedBeforeAnythingIsRestored(string key, string value, string expected)
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(_directory, "train.safetensors");
        TorchRuntime.ManualSeed(3);
        using (var saved = new SmallNet())
        {
            using var optimizer = new Sgd(saved.Parameters(), 0.1, momentum: 0.9);
            TrainingCheckpoint.Save(path, saved, optimizer, new StepLR(optimizer, 2, 0.5), epoch: 3, extra: new Dictionary<string, string> { ["best_accuracy"] = "0.5" });
        }

        Resave(path, key, value);
        TorchRuntime.ManualSeed(4);
        using var net = new SmallNet();
        using var sgd = new Sgd(net.Parameters(), 0.3, momentum: 0.9);
        var scheduler = new StepLR(sgd, 2, 0.5);
        var before = net.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone());
        var e = Record.Exception(() => TrainingCheckpoint.Load(path, net, sgd, scheduler, numericExtra: [new NumericEntry("best_accuracy", 0, 1)]));
        Assert.True(e is CheckpointFormatException, $"{key}={value}: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        Assert.StartsWith(path + ": ", e!.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        foreach (var (name, tensor) in net.StateDict())
        {
            Assert.Equal(before[name].ToBytes(), tensor.ToBytes());
        }

        Assert.Equal(0.3, sgd.Groups[0].LearningRate);
    }

    /// <summary>Rewrites a valid training checkpoint with one metadata value (or the RNG tensor) replaced, through the writer, so its checksums hold.</summary>
    private static void Resave(string path, string key, string value)
    {
        using var scope = DisposeScope.Enter();
        List<KeyValuePair<string, Tensor>> tensors;
        Dictionary<string, string> metadata;
        using (var file = SafeTensors.Load(path))
        {
            tensors = file.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Value.Clone())).ToList();
            metadata = file.Metadata.Where(m => !m.Key.StartsWith("distill.format_version", StringComparison.Ordinal) && m.Key is not (SafeTensors.ChecksumsKey or SafeTensors.HeaderChecksumKey))
                .ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
        }

        if (key == "rng.cpu")
        {
            tensors = [.. tensors.Where(t => t.Key != key), new(key, Tensor.Zeros([3]).To(DType.UInt8))];
        }
        else
        {
            metadata[key] = value;
        }

        SafeTensors.Save(path, tensors, metadata);
    }

    private string Corrupt(string name)
    {
        var path = Sample();
        static JsonNode Tensor(JsonNode h, string t) => h[t]!;
        return name switch
        {
            "header is an array" => Raw(path, "[]"),
            "header is null" => Raw(path, "null"),
            "header is a number" => Raw(path, "42"),
            "header names a tensor twice" => Raw(path, HeaderText(File.ReadAllBytes(path)).TrimEnd()[..^1] + ",\"a\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[0,0]}}"),
            "metadata is an array" => Edit(path, h => h["__metadata__"] = new JsonArray(), null),
            "metadata is null" => Edit(path, h => h["__metadata__"] = null, null),
            "metadata value is a number" => Edit(path, h => h["__metadata__"]!["note"] = 3, null),
            "metadata value is an object" => Edit(path, h => h["__metadata__"]!["note"] = new JsonObject(), null),
            "checksums are not JSON" => Edit(path, h => h["__metadata__"]![SafeTensors.ChecksumsKey] = "{a", null),
            "checksums are an array" => Edit(path, h => h["__metadata__"]![SafeTensors.ChecksumsKey] = "[]", null),
            "checksum entry is a number" => Edit(path, h => h["__metadata__"]![SafeTensors.ChecksumsKey] = "{\"a\": 5, \"b\": \"0000000000000000\"}", null),
            "checksum entry is short" => Edit(path, h => h["__metadata__"]![SafeTensors.ChecksumsKey] = "{\"a\": \"abc\"}", null),
            "checksum for no tensor (v1)" => Edit(path, h => AddChecksum(SetVersion1(h), "c"), null),
            "no checksum for a tensor (v1)" => Edit(path, h => RemoveChecksum(SetVersion1(h), "b"), null),
            "checksums missing" => Edit(path, h => h["__metadata__"]!.AsObject().Remove(SafeTensors.ChecksumsKey), null),
            "unknown format version" => Edit(path, h => h["__metadata__"]![SafeTensors.FormatVersionKey] = "3", null),
            "header checksum missing" => Edit(path, h => h["__metadata__"]!.AsObject().Remove(SafeTensors.HeaderChecksumKey), null),
            "metadata edited without its checksum" => Edit(path, h => h["__metadata__"]!["note"] = "edited", null),
            "shape edited without its checksum" => Edit(path, h => Tensor(h, "a")["shape"] = new JsonArray(3, 2), null),
            "entry is a number" => Edit(path, h => h["a"] = 5, null),
            "dtype missing" => Edit(path, h => Tensor(h, "a").AsObject().Remove("dtype"), null),
            "dtype unknown" => Edit(path, h => Tensor(h, "a")["dtype"] = "F8", null),
            "dtype is a number" => Edit(path, h => Tensor(h, "a")["dtype"] = 7, null),
            "shape negative" => Edit(path, h => Tensor(h, "a")["shape"] = new JsonArray(-2, 3), null),
            "shape fractional" => Edit(path, h => Tensor(h, "a")["shape"] = new JsonArray(2, 1.5), null),
            "shape is a string" => Edit(path, h => Tensor(h, "a")["shape"] = "23", null),
            "shape beyond 64 bits" => Edit(path, h => Tensor(h, "a")["shape"] = JsonNode.Parse("[18446744073709551616, 3]"), null),
            "element count overflows" => Edit(path, h => Tensor(h, "a")["shape"] = new JsonArray(4294967296L, 4294967296L, 4), null),
            "size disagrees with shape" => Edit(path, h => Tensor(h, "a")["shape"] = new JsonArray(2, 4), null),
            "offsets out of range" => Edit(path, h => Tensor(h, "b")["data_offsets"] = new JsonArray(1000, 1032), null),
            "three offsets" => Edit(path, h => Tensor(h, "b")["data_offsets"] = new JsonArray(48, 80, 80), null),
            "offsets reversed" => Edit(path, h => Tensor(h, "b")["data_offsets"] = new JsonArray(80, 48), null),
            "negative offset" => Edit(path, h => Tensor(h, "b")["data_offsets"] = new JsonArray(-48, -16), null),
            "bytes after the last tensor" => Edit(path, null, d => [.. d, 1, 2, 3, 4]),
            "gap between tensors" => Edit(path, h => Tensor(h, "b")["data_offsets"] = new JsonArray(56, 88), d => [.. d[..48], 0, 0, 0, 0, 0, 0, 0, 0, .. d[48..]]),
            "overlapping tensors" => Edit(path, h => Tensor(h, "b")["data_offsets"] = new JsonArray(40, 72), d => d[..72]),
            "nesting too deep" => Edit(path, h => h["__metadata__"]!["note"] = JsonNode.Parse(new string('[', 60) + new string(']', 60)), null),
            _ => throw new ArgumentException(name),
        };
    }

    private static JsonNode SetVersion1(JsonNode header)
    {
        header["__metadata__"]![SafeTensors.FormatVersionKey] = "1";
        header["__metadata__"]!.AsObject().Remove(SafeTensors.HeaderChecksumKey);
        return header;
    }

    private static void AddChecksum(JsonNode header, string name)
    {
        var checksums = JsonNode.Parse(header["__metadata__"]![SafeTensors.ChecksumsKey]!.GetValue<string>())!;
        checksums[name] = "0000000000000000";
        header["__metadata__"]![SafeTensors.ChecksumsKey] = checksums.ToJsonString();
    }

    private static void RemoveChecksum(JsonNode header, string name)
    {
        var checksums = JsonNode.Parse(header["__metadata__"]![SafeTensors.ChecksumsKey]!.GetValue<string>())!;
        checksums.AsObject().Remove(name);
        header["__metadata__"]![SafeTensors.ChecksumsKey] = checksums.ToJsonString();
    }

    private string Sample()
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(_directory, "sample.safetensors");
        SafeTensors.Save(path, [new("a", Tensor.Arange(6).View(2, 3)), new("b", Tensor.Linspace(0, 1, 8))], new Dictionary<string, string> { ["note"] = "valid" });
        return path;
    }

    private static string HeaderText(byte[] bytes) => Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));

    private static byte[] Data(byte[] bytes) => bytes[(8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes))..];

    /// <summary>A copy of the file with its header edited as JSON and/or its data section replaced.</summary>
    private string Edit(string path, Action<JsonNode>? header, Func<byte[], byte[]>? data)
    {
        var bytes = File.ReadAllBytes(path);
        var node = JsonNode.Parse(HeaderText(bytes))!;
        header?.Invoke(node);
        return Write(node.ToJsonString(), data?.Invoke(Data(bytes)) ?? Data(bytes));
    }

    private string Raw(string path, string header) => Write(header, Data(File.ReadAllBytes(path)));

    private string Write(string header, byte[] data)
    {
        var text = Encoding.UTF8.GetBytes(header);
        var result = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)text.Length);
        text.CopyTo(result, 8);
        data.CopyTo(result, 8 + text.Length);
        var path = Path.Combine(_directory, $"corrupt-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, result);
        return path;
    }
}

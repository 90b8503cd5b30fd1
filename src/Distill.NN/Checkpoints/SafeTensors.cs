using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Distill.Torch;

namespace Distill.NN.Checkpoints;

/// <summary>
/// Reads and writes safetensors files: an 8-byte little-endian header length, a JSON header (dtype,
/// shape, data_offsets per tensor; string __metadata__), then the raw little-endian data. Files written
/// here load with safetensors.torch.load_file; files from PyTorch load here. Distill adds to the metadata
/// a format version, an XxHash64 of every tensor's bytes and one of the whole header (metadata included),
/// and checks everything before creating any tensor: a truncated, corrupt or edited file fails with the
/// file, the field or tensor, and the byte offset named.
/// Writes are atomic: a temporary file in the same folder, flushed to disk, then renamed over the target.
/// </summary>
public static class SafeTensors
{
    /// <summary>The metadata key of Distill's format version.</summary>
    public const string FormatVersionKey = "distill.format_version";

    /// <summary>The metadata key of the per-tensor checksums (JSON: name to 16 hex digits).</summary>
    public const string ChecksumsKey = "distill.xxhash64";

    /// <summary>The metadata key of the header's checksum (format version 2: every metadata entry, dtype, shape and offset).</summary>
    public const string HeaderChecksumKey = "distill.header_xxhash64";

    /// <summary>The format version this code writes; it also reads version 1 (whose metadata no checksum covers).</summary>
    public const string FormatVersion = "2";

    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private static readonly Dictionary<DType, string> DTypeNames = new()
    {
        [DType.Float32] = "F32", [DType.Float64] = "F64", [DType.Float16] = "F16", [DType.BFloat16] = "BF16",
        [DType.Int64] = "I64", [DType.Int32] = "I32", [DType.Int16] = "I16", [DType.Int8] = "I8",
        [DType.UInt8] = "U8", [DType.Bool] = "BOOL",
    };

    /// <summary>Writes tensors (any device; copied to the host) and metadata atomically.</summary>
    /// <exception cref="IOException">The file could not be written; an existing file at <paramref name="path"/> is left as it was.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<(string Name, DType DType, long[] Shape, byte[] Data)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (!names.Add(name))
            {
                throw new ArgumentException($"tensor name '{name}' appears twice", nameof(tensors));
            }

            if (name == "__metadata__")
            {
                throw new ArgumentException("'__metadata__' is reserved by the safetensors format", nameof(tensors));
            }

            entries.Add((name, tensor.DType, tensor.Shape, tensor.ToBytes()));
        }

        var header = BuildHeader(entries, metadata);
        WriteAtomically(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var e in entries)
            {
                stream.Write(e.Data);
            }
        });
    }

    /// <summary>Reads every tensor after validating the whole file (header, offsets, sizes, checksums).</summary>
    /// <param name="path">The file.</param>
    /// <param name="device">Where the tensors go (the host when null): a file saved from any device loads onto any other.</param>
    /// <exception cref="CheckpointFormatException">The file is truncated, corrupt or not safetensors; the message says where.</exception>
    public static SafeTensorsFile Load(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{path}: cannot be read: {e.Message}", e);
        }

        var parsed = Parse(path, bytes);
        var result = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in parsed.Entries)
            {
                var t = Tensor.FromBytes(bytes.AsSpan((int)e.Start, (int)(e.End - e.Start)), e.DType, e.Shape);
                if (device is { Type: not DeviceType.Cpu } target)
                {
                    using var host = t;
                    t = host.To(target);
                }

                result[e.Name] = t.DetachFromScope();
            }
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return new SafeTensorsFile(result, parsed.Metadata);
    }

    /// <summary>Writes a file through a temporary sibling, flushed to disk, then renamed over the target.</summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static byte[] BuildHeader(List<(string Name, DType DType, long[] Shape, byte[] Data)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            var checksums = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in entries)
            {
                checksums[e.Name] = XxHash64.HashToUInt64(e.Data).ToString("x16", CultureInfo.InvariantCulture);
            }

            var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            {
                if (key is FormatVersionKey or ChecksumsKey or HeaderChecksumKey)
                {
                    throw new ArgumentException($"metadata key '{key}' is reserved by Distill", nameof(metadata));
                }

                all[key] = value;
            }

            all.TryAdd("format", "pt");
            all[FormatVersionKey] = FormatVersion;
            all[ChecksumsKey] = JsonSerializer.Serialize(checksums);
            var offsets = new long[entries.Count + 1];
            for (var i = 0; i < entries.Count; i++)
            {
                offsets[i + 1] = offsets[i] + entries[i].Data.Length;
            }

            all[HeaderChecksumKey] = HeaderChecksum(all, entries.Select((e, i) => (e.Name, DTypeNames[e.DType], e.Shape, offsets[i], offsets[i + 1])));
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in all)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            long offset = 0;
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", DTypeNames[e.DType]);
                json.WriteStartArray("shape");
                foreach (var d in e.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.Data.Length;
            }

            json.WriteEndObject();
        }

        // The data section starts 8-byte aligned: pad the header with spaces, as the reference writer does.
        var header = buffer.ToArray();
        var padded = (header.Length + 7) / 8 * 8;
        var result = new byte[padded];
        header.CopyTo(result, 0);
        result.AsSpan(header.Length).Fill((byte)' ');
        return result;
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) Parse(string path, byte[] bytes)
    {
        if (bytes.Length < 8)
        {
            throw new CheckpointFormatException($"{path}: truncated: {bytes.Length} bytes, less than the 8-byte header length");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > bytes.Length - 8)
        {
            throw new CheckpointFormatException(
                $"{path}: truncated or not safetensors: the header length at byte 0 says {headerLength} bytes but only {bytes.Length - 8} follow");
        }

        var dataStart = 8 + (long)headerLength;
        var dataLength = bytes.Length - dataStart;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            var near = e.LineNumber is null or 0 ? $"byte {8 + (e.BytePositionInLine ?? 0)}" : $"line {e.LineNumber + 1}, byte {e.BytePositionInLine ?? 0} of that line";
            throw new CheckpointFormatException($"{path}: the JSON header is corrupt near {near}: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException($"{path}: the JSON header (bytes 8..{dataStart}) is {Kind(root)}, expected an object of tensors");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in root.EnumerateObject())
            {
                if (!names.Add(item.Name))
                {
                    throw new CheckpointFormatException($"{path}: the header names '{item.Name}' twice");
                }

                if (item.Name == "__metadata__")
                {
                    ParseMetadata(path, item.Value, metadata);
                    continue;
                }

                entries.Add(ParseEntry(path, item, dataStart, dataLength));
            }

            CheckLayout(path, entries, dataStart, bytes.Length);
            CheckChecksums(path, bytes, entries, metadata, dataStart);
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException($"{path}: header field '__metadata__' is {Kind(value)}, expected an object of strings");
        }

        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointFormatException($"{path}: metadata '{m.Name}' is {Kind(m.Value)}, expected a string");
            }

            if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
            {
                throw new CheckpointFormatException($"{path}: metadata '{m.Name}' appears twice");
            }
        }
    }

    private static Entry ParseEntry(string path, JsonProperty item, long dataStart, long dataLength)
    {
        var where = $"{path}: tensor '{item.Name}'";
        if (item.Value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException($"{where}: its header entry is {Kind(item.Value)}, expected an object with dtype, shape and data_offsets");
        }

        JsonElement Field(string name) =>
            item.Value.TryGetProperty(name, out var field) ? field : throw new CheckpointFormatException($"{where}: its header entry has no '{name}'");

        var dtypeField = Field("dtype");
        var dtypeName = dtypeField.ValueKind == JsonValueKind.String
            ? dtypeField.GetString()!
            : throw new CheckpointFormatException($"{where}: dtype is {Kind(dtypeField)}, expected a string such as \"F32\"");
        var dtype = DTypeNames.FirstOrDefault(p => p.Value == dtypeName);
        if (dtype.Value is null)
        {
            throw new CheckpointFormatException($"{where}: dtype '{dtypeName}' is not one Distill reads ({string.Join(", ", DTypeNames.Values)})");
        }

        var shape = Integers(where, "shape", Field("shape"));
        var offsets = Integers(where, "data_offsets", Field("data_offsets"));
        if (offsets.Length != 2)
        {
            throw new CheckpointFormatException($"{where}: data_offsets has {offsets.Length} values, expected [begin, end]");
        }

        if (offsets[1] < offsets[0])
        {
            throw new CheckpointFormatException($"{where}: data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        }

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => a * b) * dtype.Key.ElementSize());
        }
        catch (OverflowException e)
        {
            throw new CheckpointFormatException($"{where}: shape {Tensor.FormatShape(shape)} ({dtypeName}) has more bytes than a 64-bit count holds", e);
        }

        if (offsets[1] - offsets[0] != expected)
        {
            throw new CheckpointFormatException(
                $"{where}: shape {Tensor.FormatShape(shape)} ({dtypeName}) needs {expected} bytes but its data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        }

        if (offsets[1] > dataLength)
        {
            throw new CheckpointFormatException(
                $"{path}: truncated: tensor '{item.Name}' needs bytes {dataStart + offsets[0]}..{dataStart + offsets[1]} but the file ends at byte {dataStart + dataLength} (or its data_offsets [{offsets[0]}, {offsets[1]}] are out of range)");
        }

        return new Entry(item.Name, dtype.Key, shape, dataStart + offsets[0], dataStart + offsets[1]);
    }

    /// <summary>A header array of integers >= 0 (shape, data_offsets).</summary>
    private static long[] Integers(string where, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointFormatException($"{where}: {field} is {Kind(value)}, expected an array of integers >= 0");
        }

        var result = new long[value.GetArrayLength()];
        var i = 0;
        foreach (var v in value.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n) || n < 0)
            {
                throw new CheckpointFormatException($"{where}: {field}[{i}] is {(v.ValueKind == JsonValueKind.Number ? v.GetRawText() : Kind(v))}, expected an integer >= 0 (below 2^63)");
            }

            result[i++] = n;
        }

        return result;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {e.GetRawText()}",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        _ => "null",
    };

    private static void CheckLayout(string path, List<Entry> entries, long dataStart, long fileLength)
    {
        // The format requires the tensors to tile the data section without gaps or overlaps, to its end.
        long expected = dataStart;
        foreach (var e in entries.OrderBy(e => e.Start).ThenBy(e => e.End))
        {
            if (e.Start != expected)
            {
                throw new CheckpointFormatException(e.Start > expected
                    ? $"{path}: tensor '{e.Name}' starts at byte {e.Start}, expected {expected}: bytes {expected}..{e.Start} of the data section belong to no tensor"
                    : $"{path}: tensor '{e.Name}' starts at byte {e.Start}, expected {expected}: it overlaps the tensor before it");
            }

            expected = e.End;
        }

        if (expected != fileLength)
        {
            throw new CheckpointFormatException($"{path}: {fileLength - expected} bytes after the last tensor, from byte {expected} to the end of the file at {fileLength}");
        }
    }

    private static void CheckChecksums(string path, byte[] bytes, List<Entry> entries, Dictionary<string, string> metadata, long dataStart)
    {
        if (!metadata.TryGetValue(FormatVersionKey, out var version))
        {
            return; // a file from PyTorch or another writer: no checksums to verify
        }

        if (version is not (FormatVersion or "1"))
        {
            throw new CheckpointFormatException($"{path}: metadata '{FormatVersionKey}' is '{version}'; this build reads versions 1 and {FormatVersion}");
        }

        var checksums = metadata.TryGetValue(ChecksumsKey, out var json)
            ? ParseChecksums(path, json)
            : throw new CheckpointFormatException($"{path}: metadata '{ChecksumsKey}' (the tensors' checksums) is missing");

        // Version 2 covers the whole header (metadata, dtypes, shapes, offsets); version 1 only the tensors' bytes.
        if (version == FormatVersion)
        {
            if (!metadata.TryGetValue(HeaderChecksumKey, out var stored))
            {
                throw new CheckpointFormatException($"{path}: metadata '{HeaderChecksumKey}' (the header's checksum) is missing");
            }

            var actual = HeaderChecksum(metadata, entries.Select(e => (e.Name, DTypeNames[e.DType], e.Shape, e.Start - dataStart, e.End - dataStart)));
            if (!string.Equals(actual, stored, StringComparison.Ordinal))
            {
                throw new CheckpointFormatException($"{path}: the header (bytes 8..{dataStart}) is corrupt or was edited: checksum {actual}, metadata '{HeaderChecksumKey}' says {stored}");
            }
        }

        foreach (var name in checksums.Keys.Where(n => entries.All(e => e.Name != n)))
        {
            throw new CheckpointFormatException($"{path}: metadata '{ChecksumsKey}' has a checksum for '{name}', which is not a tensor of the file");
        }

        foreach (var e in entries)
        {
            var actual = XxHash64.HashToUInt64(bytes.AsSpan((int)e.Start, (int)(e.End - e.Start))).ToString("x16", CultureInfo.InvariantCulture);
            if (!checksums.TryGetValue(e.Name, out var expected))
            {
                throw new CheckpointFormatException($"{path}: tensor '{e.Name}' has no checksum in metadata '{ChecksumsKey}'");
            }

            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new CheckpointFormatException($"{path}: tensor '{e.Name}' (bytes {e.Start}..{e.End}) is corrupt: checksum {actual}, header says {expected}");
            }
        }
    }

    private static Dictionary<string, string> ParseChecksums(string path, string json)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException($"{path}: metadata '{ChecksumsKey}' is {Kind(document.RootElement)}, expected an object of tensor names to 16 hex digits");
            }

            foreach (var p in document.RootElement.EnumerateObject())
            {
                var value = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : string.Empty;
                if (value.Length != 16 || !value.All(char.IsAsciiHexDigitLower) || !result.TryAdd(p.Name, value))
                {
                    throw new CheckpointFormatException($"{path}: metadata '{ChecksumsKey}' entry '{p.Name}' is {Kind(p.Value)}, expected 16 lower-case hex digits, once per tensor");
                }
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{path}: metadata '{ChecksumsKey}' is not valid JSON: {e.Message}", e);
        }

        return result;
    }

    /// <summary>
    /// XxHash64 (16 hex digits) of the header in a canonical form: every metadata entry but this checksum, and every
    /// tensor's dtype, shape and offsets, both sorted by name; so no field of the header can change unnoticed.
    /// </summary>
    private static string HeaderChecksum(IEnumerable<KeyValuePair<string, string>> metadata, IEnumerable<(string Name, string DType, long[] Shape, long Start, long End)> tensors)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (key, value) in metadata.Where(m => m.Key != HeaderChecksumKey).OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                json.WriteStringValue(key);
                json.WriteStringValue(value);
            }

            foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                json.WriteStringValue(t.Name);
                json.WriteStringValue(t.DType);
                json.WriteStartArray();
                foreach (var d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteNumberValue(t.Start);
                json.WriteNumberValue(t.End);
            }

            json.WriteEndArray();
        }

        return XxHash64.HashToUInt64(buffer.ToArray()).ToString("x16", CultureInfo.InvariantCulture);
    }

    private sealed record Entry(string Name, DType DType, long[] Shape, long Start, long End);
}

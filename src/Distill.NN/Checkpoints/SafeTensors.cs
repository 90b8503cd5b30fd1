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
/// a format version and an XxHash64 of every tensor's bytes, and checks everything before creating
/// any tensor: a truncated or corrupt file fails with the file, the byte offset and the tensor named.
/// Writes are atomic: a temporary file in the same folder, flushed to disk, then renamed over the target.
/// </summary>
public static class SafeTensors
{
    /// <summary>The metadata key of Distill's format version.</summary>
    public const string FormatVersionKey = "distill.format_version";

    /// <summary>The metadata key of the per-tensor checksums (JSON: name to 16 hex digits).</summary>
    public const string ChecksumsKey = "distill.xxhash64";

    /// <summary>The format version this code writes and reads.</summary>
    public const string FormatVersion = "1";

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
            json.WriteStartObject("__metadata__");
            var checksums = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in entries)
            {
                checksums[e.Name] = XxHash64.HashToUInt64(e.Data).ToString("x16", CultureInfo.InvariantCulture);
            }

            if (metadata is not null)
            {
                foreach (var (key, value) in metadata.OrderBy(k => k.Key, StringComparer.Ordinal))
                {
                    if (key is FormatVersionKey or ChecksumsKey)
                    {
                        throw new ArgumentException($"metadata key '{key}' is reserved by Distill", nameof(metadata));
                    }

                    json.WriteString(key, value);
                }
            }

            if (metadata is null || !metadata.ContainsKey("format"))
            {
                json.WriteString("format", "pt");
            }

            json.WriteString(FormatVersionKey, FormatVersion);
            json.WriteString(ChecksumsKey, JsonSerializer.Serialize(checksums));
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
            document = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{path}: the JSON header is corrupt near byte {8 + (e.BytePositionInLine ?? 0)}: {e.Message}", e);
        }

        using (document)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            foreach (var item in document.RootElement.EnumerateObject())
            {
                if (item.Name == "__metadata__")
                {
                    foreach (var m in item.Value.EnumerateObject())
                    {
                        metadata[m.Name] = m.Value.GetString() ?? string.Empty;
                    }

                    continue;
                }

                entries.Add(ParseEntry(path, item, dataStart, dataLength));
            }

            CheckLayout(path, entries, dataStart);
            CheckChecksums(path, bytes, entries, metadata);
            return (entries, metadata);
        }
    }

    private static Entry ParseEntry(string path, JsonProperty item, long dataStart, long dataLength)
    {
        try
        {
            var dtypeName = item.Value.GetProperty("dtype").GetString();
            var dtype = DTypeNames.FirstOrDefault(p => p.Value == dtypeName);
            if (dtype.Value is null)
            {
                throw new CheckpointFormatException($"{path}: tensor '{item.Name}' has dtype '{dtypeName}', which Distill does not read");
            }

            var shape = item.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var offsets = item.Value.GetProperty("data_offsets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || shape.Any(d => d < 0))
            {
                throw new CheckpointFormatException($"{path}: tensor '{item.Name}' has invalid shape or data_offsets");
            }

            var elements = shape.Aggregate(1L, (a, b) => a * b);
            var expected = elements * dtype.Key.ElementSize();
            if (offsets[1] - offsets[0] != expected)
            {
                throw new CheckpointFormatException(
                    $"{path}: tensor '{item.Name}' of shape {Tensor.FormatShape(shape)} ({dtypeName}) needs {expected} bytes but its offsets span {offsets[1] - offsets[0]}");
            }

            if (offsets[1] > dataLength)
            {
                throw new CheckpointFormatException(
                    $"{path}: truncated: tensor '{item.Name}' needs bytes {dataStart + offsets[0]}..{dataStart + offsets[1]} but the file ends at byte {dataStart + dataLength}");
            }

            return new Entry(item.Name, dtype.Key, shape, dataStart + offsets[0], dataStart + offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"{path}: tensor '{item.Name}' has a malformed header entry: {e.Message}", e);
        }
    }

    private static void CheckLayout(string path, List<Entry> entries, long dataStart)
    {
        // The format requires the tensors to tile the data section without gaps or overlaps.
        long expected = dataStart;
        foreach (var e in entries.OrderBy(e => e.Start))
        {
            if (e.Start != expected)
            {
                throw new CheckpointFormatException($"{path}: tensor '{e.Name}' starts at byte {e.Start}, expected {expected}: the data section has a gap or an overlap");
            }

            expected = e.End;
        }
    }

    private static void CheckChecksums(string path, byte[] bytes, List<Entry> entries, Dictionary<string, string> metadata)
    {
        if (metadata.TryGetValue(FormatVersionKey, out var version) && version != FormatVersion)
        {
            throw new CheckpointFormatException($"{path}: Distill format version {version}; this build reads version {FormatVersion}");
        }

        if (!metadata.TryGetValue(ChecksumsKey, out var json))
        {
            return; // a file from PyTorch or another writer: no checksums to verify
        }

        var checksums = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
        foreach (var e in entries)
        {
            var actual = XxHash64.HashToUInt64(bytes.AsSpan((int)e.Start, (int)(e.End - e.Start))).ToString("x16", CultureInfo.InvariantCulture);
            if (!checksums.TryGetValue(e.Name, out var expected))
            {
                throw new CheckpointFormatException($"{path}: tensor '{e.Name}' has no checksum in the header");
            }

            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new CheckpointFormatException($"{path}: tensor '{e.Name}' (bytes {e.Start}..{e.End}) is corrupt: checksum {actual}, header says {expected}");
            }
        }
    }

    private sealed record Entry(string Name, DType DType, long[] Shape, long Start, long End);
}

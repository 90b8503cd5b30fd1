using System.Text.Json;
using Distill.NN.Data;

namespace Distill.NN.Metrics.Detection;

/// <summary>
/// COCO's detection result file: a JSON array of <c>{"image_id", "category_id", "bbox": [x, y, w, h], "score"}</c>
/// records (other keys, such as <c>segmentation</c> or <c>id</c>, are skipped when read).
/// </summary>
public static class CocoResultsJson
{
    /// <summary>Writes the detections in order (creating the folder).</summary>
    public static void Write(string path, IEnumerable<CocoDetection> detections)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(detections);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartArray();
        foreach (var d in detections)
        {
            ArgumentNullException.ThrowIfNull(d);
            writer.WriteStartObject();
            writer.WriteNumber("image_id", d.ImageId);
            writer.WriteNumber("category_id", d.CategoryId);
            writer.WriteStartArray("bbox");
            writer.WriteNumberValue(d.Box.X);
            writer.WriteNumberValue(d.Box.Y);
            writer.WriteNumberValue(d.Box.Width);
            writer.WriteNumberValue(d.Box.Height);
            writer.WriteEndArray();
            writer.WriteNumber("score", d.Score);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads a result file.</summary>
    /// <exception cref="DataFormatException">
    /// The file is not JSON, not an array of objects, or a record lacks a key or has a bad value; the message names the
    /// file, the record (0-based) and its byte offset.
    /// </exception>
    public static IReadOnlyList<CocoDetection> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such result file", path);
        }

        var bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes, path);
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{path}: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of the line: {e.Message}", e);
        }
    }

    private static List<CocoDetection> Parse(byte[] bytes, string path)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new DataFormatException($"{path}: a COCO result file is a JSON array of detection records; byte 0 does not start one");
        }

        var detections = new List<CocoDetection>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var record = detections.Count;
            var offset = reader.TokenStartIndex;
            string Where() => $"{path}: record {record} (byte {offset})";
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new DataFormatException($"{Where()}: expected an object {{image_id, category_id, bbox, score}}, found {reader.TokenType}");
            }

            long? imageId = null;
            int? categoryId = null;
            double? score = null;
            double[]? box = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var key = reader.GetString();
                reader.Read();
                switch (key)
                {
                    case "image_id":
                        imageId = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var id)
                            ? id
                            : throw new DataFormatException($"{Where()}: image_id must be an integer");
                        break;
                    case "category_id":
                        categoryId = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var c)
                            ? c
                            : throw new DataFormatException($"{Where()}: category_id must be an integer");
                        break;
                    case "score":
                        score = reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var s) && double.IsFinite(s)
                            ? s
                            : throw new DataFormatException($"{Where()}: score must be a finite number");
                        break;
                    case "bbox":
                        box = ReadBox(ref reader, Where);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            var missing = new[] { ("image_id", imageId.HasValue), ("category_id", categoryId.HasValue), ("bbox", box != null), ("score", score.HasValue) }
                .Where(p => !p.Item2).Select(p => p.Item1).ToList();
            if (missing.Count > 0)
            {
                throw new DataFormatException($"{Where()}: missing {string.Join(", ", missing)}");
            }

            var cocoBox = new CocoBox(box![0], box[1], box[2], box[3]);
            var problem = cocoBox.Problem();
            if (problem != null)
            {
                throw new DataFormatException($"{Where()}: bbox {problem["box ".Length..]}");
            }

            detections.Add(new CocoDetection(imageId!.Value, cocoBox, score!.Value, categoryId!.Value));
        }

        return detections;
    }

    private static double[] ReadBox(ref Utf8JsonReader reader, Func<string> where)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new DataFormatException($"{where()}: bbox must be an array [x, y, width, height]");
        }

        var values = new List<double>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var v))
            {
                throw new DataFormatException($"{where()}: bbox must hold 4 numbers [x, y, width, height]");
            }

            values.Add(v);
        }

        return values.Count == 4 ? [.. values] : throw new DataFormatException($"{where()}: bbox has {values.Count} numbers, not 4 [x, y, width, height]");
    }
}

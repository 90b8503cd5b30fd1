using Distill.NN.Data;
using Distill.NN.Metrics.Detection;
using Xunit;

namespace Distill.NN.Tests.Detection;

public sealed class CocoResultsJsonTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-cocojson-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void WriteThenRead_GivesTheSameDetections_BitForBit()
    {
        var detections = new[]
        {
            new CocoDetection(42, new CocoBox(0.1, 2.5, 10.333333333333334, 7), 0.123456789012345, 3),
            new CocoDetection(9_000_000_000, new CocoBox(0, 0, 0, 0), 1e-300, 1),
        };
        var path = Path.Combine(_directory, "sub", "results.json");
        CocoResultsJson.Write(path, detections);
        Assert.Equal(detections, CocoResultsJson.Read(path));
        Assert.StartsWith("[{\"image_id\":42,\"category_id\":3,\"bbox\":[0.1,2.5,10.333333333333334,7],\"score\":0.123456789012345}", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SkipsOtherKeys_AsPycocotoolsResultFilesMayCarryThem()
    {
        var path = Write("[{\"id\": 5, \"image_id\": 1, \"segmentation\": [[1, 2]], \"category_id\": 2, \"bbox\": [1, 2, 3, 4], \"score\": 0.5, \"area\": 12}]");
        Assert.Equal(new CocoDetection(1, new CocoBox(1, 2, 3, 4), 0.5, 2), Assert.Single(CocoResultsJson.Read(path)));
    }

    [Theory]
    [InlineData("{\"image_id\": 1}", "a COCO result file is a JSON array")]
    [InlineData("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 1}, {\"image_id\": 1, \"bbox\": [0, 0, 1, 1]}]", "record 1 (byte 70): missing category_id, score")]
    [InlineData("[{\"image_id\": 1.5, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 1}]", "record 0 (byte 1): image_id must be an integer")]
    [InlineData("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1], \"score\": 1}]", "record 0 (byte 1): bbox has 3 numbers, not 4")]
    [InlineData("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, -1, 1], \"score\": 1}]", "record 0 (byte 1): bbox [0, 0, -1, 1] has a negative width or height")]
    [InlineData("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": \"high\"}]", "score must be a finite number")]
    [InlineData("[7]", "record 0 (byte 1): expected an object")]
    [InlineData("[{\"image_id\": 1,", "not valid JSON at line 1")]
    public void Read_BadFile_NamesTheFileTheRecordAndTheProblem(string json, string message)
    {
        var path = Write(json);
        var e = Assert.Throws<DataFormatException>(() => CocoResultsJson.Read(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    private string Write(string json)
    {
        var path = Path.Combine(_directory, "r.json");
        File.WriteAllText(path, json);
        return path;
    }
}

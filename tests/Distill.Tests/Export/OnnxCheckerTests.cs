using System.Diagnostics;
using Distill.Export;
using Distill.Models;
using Xunit;

namespace Distill.Tests.Export;

/// <summary>ONNX's own checker (Debian's python3-onnx, full check with strict shape inference) accepts the files Distill writes.</summary>
public sealed class OnnxCheckerTests
{
    [Fact]
    public async Task OnnxCheckerAcceptsEveryExportedZooModelTwoSegmentationModelsAndEveryDetectionModel()
    {
        var folder = Directory.CreateTempSubdirectory("distill-onnx-check-").FullName;
        try
        {
            var files = new List<string>();
            foreach (var (name, _) in ModelRegistry.Names)
            {
                using var model = ModelRegistry.Create(name, new ModelOptions(10, 3, 32));
                foreach (var fold in name is "resnet8" or "shufflenetv1" or "mobilenetv2" or "wrn_16_1" ? new[] { false, true } : [false])
                {
                    var path = Path.Combine(folder, $"{name}{(fold ? ".folded" : string.Empty)}.onnx");
                    OnnxExporter.Export(model, [3, 32, 32], path, new OnnxExportOptions { FoldBatchNorm = fold });
                    files.Add(path);
                }
            }

            foreach (var name in new[] { "pspnet_resnet18", "scene_student" })
            {
                using var model = Distill.Models.Segmentation.SegmentationModels.Create(name, new ModelOptions(5, 3, 64));
                var path = Path.Combine(folder, $"{name}.folded.onnx");
                OnnxExporter.Export(model, [3, 64, 64], path, new OnnxExportOptions { FoldBatchNorm = true });
                files.Add(path);
            }

            foreach (var (name, _) in Distill.Models.Detection.DetectionModels.Names)
            {
                using var model = Distill.Models.Detection.DetectionModels.Create(name, new ModelOptions(5, 3, 96, 128));
                var path = Path.Combine(folder, $"{name}.folded.onnx");
                OnnxExporter.Export(model, [3, 96, 128], path, new OnnxExportOptions { FoldBatchNorm = true });
                files.Add(path);
            }

            var script = Path.Combine(AppContext.BaseDirectory, "Scripts", "onnx_check.py");
            var psi = new ProcessStartInfo("/usr/bin/python3", [script, .. files]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var python = Process.Start(psi)!;
            var stderrTask = python.StandardError.ReadToEndAsync();
            var stdout = await python.StandardOutput.ReadToEndAsync();
            var stderr = await stderrTask;
            await python.WaitForExitAsync();
            Assert.True(python.ExitCode == 0, $"onnx_check.py exited {python.ExitCode} (python3-onnx missing? eng/setup.sh installs it)\n{stdout}\n{stderr}");
            Assert.Equal(files.Count, stdout.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

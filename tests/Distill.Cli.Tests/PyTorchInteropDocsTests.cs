using System.Diagnostics;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// docs/interop/pytorch.md, run: its Python blocks with Debian's PyTorch in a scratch folder (the first after a
/// line that reads the images it takes, both followed by lines that save the logits), its C# block as the code below;
/// the two frameworks' logits on the same images agree within a float32 forward pass's rounding.
/// </summary>
[Collection(WorkingDirectoryCollection.Name)]
public sealed class PyTorchInteropDocsTests : IDisposable
{
    private const string TeacherSample = """
        using var teacher = ModelRegistry.Create("resnet20", new ModelOptions(NumClasses: 10, InChannels: 1, ImageSize: 28));
        using (var file = SafeTensors.Load("teacher.safetensors"))
        {
            teacher.LoadStateDict(file.Tensors); // strict: a missing, unexpected or misshapen key is an error listing them
        }

        teacher.Eval();
        using var noGrad = Autograd.NoGrad();
        using var logits = teacher.Forward(images);
        """;

    private static readonly long[] ImageShape = [4, 1, 28, 28];

    private readonly string _folder = Directory.CreateTempSubdirectory("distill-pytorch-").FullName;
    private readonly string _root = RepositoryRoot.Path;

    public PyTorchInteropDocsTests()
    {
        // The page's code runs from the repository's root and imports eng/golden; the scratch folder links it there.
        Directory.CreateSymbolicLink(Path.Combine(_folder, "eng"), Path.Combine(_root, "eng"));
        using var images = Images();
        SafeTensors.Save(Path.Combine(_folder, "images.safetensors"), [new("images", images)]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task DistillStudent_LoadsInPyTorch_AsThePageShows_WithDistillsLogits()
    {
        var run = Path.Combine(_folder, "runs", "fashion-mnist", "none", "resnet8");
        var (exit, _, stderr) = await CliProcess.Run(
            "train", "--config", Path.Combine(_root, "configs", "fashion-mnist", "none", "resnet8.yaml"),
            "--set", "train.epochs=1", "--set", "data.train_subset=512", "--set", "data.test_subset=128", "--set", $"output={run}");
        Assert.True(exit == 0, stderr);

        await RunPython(
            "import sys\nsys.path.insert(0, \"eng/golden\")\nfrom safetensors_io import read_safetensors, write_safetensors\n" +
            "images = read_safetensors(\"images.safetensors\")[0][\"images\"]\n",
            PythonBlock(0),
            "write_safetensors(\"pytorch_logits.safetensors\", {\"logits\": logits})\n");

        using var student = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 28));
        using var state = SafeTensors.Load(Path.Combine(run, "best.safetensors"));
        student.LoadStateDict(state.Tensors);
        student.Eval();
        using var noGrad = Autograd.NoGrad();
        using var images = Images();
        using var logits = student.Forward(images);
        AssertSameLogits(Path.Combine(_folder, "pytorch_logits.safetensors"), logits, state, "resnet8 trained by Distill, run in PyTorch");
    }

    [Fact]
    public async Task PyTorchTeacher_LoadsInDistill_AsThePageShows_WithPyTorchsLogits()
    {
        Assert.Equal(TeacherSample.ReplaceLineEndings("\n"), Block("csharp", 0));
        await RunPython(
            string.Empty,
            PythonBlock(1),
            "from safetensors_io import read_safetensors\nimages = read_safetensors(\"images.safetensors\")[0][\"images\"]\n" +
            "teacher.eval()\nwith torch.no_grad():\n    write_safetensors(\"pytorch_logits.safetensors\", {\"logits\": teacher(images)[0]})\n");

        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _folder;
        try
        {
            using var images = Images();

            // The sample, line for line.
            using var teacher = ModelRegistry.Create("resnet20", new ModelOptions(NumClasses: 10, InChannels: 1, ImageSize: 28));
            using (var file = SafeTensors.Load("teacher.safetensors"))
            {
                teacher.LoadStateDict(file.Tensors); // strict: a missing, unexpected or misshapen key is an error listing them
            }

            teacher.Eval();
            using var noGrad = Autograd.NoGrad();
            using var logits = teacher.Forward(images);

            using var state = SafeTensors.Load("teacher.safetensors");
            Assert.Contains("layer1.0.bn1.num_batches_tracked", state.Tensors.Keys);
            Assert.Equal(5L, state.Tensors["layer1.0.bn1.num_batches_tracked"].ToArray<long>()[0]); // PyTorch's five training steps

            AssertSameLogits(Path.Combine(_folder, "pytorch_logits.safetensors"), logits, state, "resnet20 trained by PyTorch, run in Distill");
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    /// <summary>
    /// PyTorch's logits are the reference; the tolerance is the one the model golden tests derive from the network's
    /// reductions (each conv and linear weight's fan-in): two libtorch builds, kernels and thread counts round a float32
    /// forward pass differently, by about 2 lambda u sum sqrt(fan_in) of the logits' RMS.
    /// </summary>
    private static void AssertSameLogits(string pytorchFile, Tensor distill, SafeTensorsFile state, string what)
    {
        using var pytorch = SafeTensors.Load(pytorchFile);
        var expected = pytorch.Tensors["logits"];
        Assert.Equal([4L, 10L], expected.Shape);
        var golden = new GoldenTensor("float32", expected.Shape, [.. expected.ToArray<float>().Select(v => (double)v)]);
        var keys = state.Tensors.Select(kv => (kv.Key, kv.Value.Shape)).ToList();
        golden.AssertMatches(distill, what, GoldenTolerance.ForNetwork(keys, what));
    }

    /// <summary>The images both sides run: a fixed pattern in [-1, 1], the range of normalised Fashion-MNIST pixels.</summary>
    private static Tensor Images()
    {
        using var ramp = Tensor.Linspace(0, 1, ImageShape.Aggregate(1L, (a, b) => a * b));
        using var scaled = ramp * 77;
        using var wave = scaled.Sin();
        return wave.Reshape(ImageShape);
    }

    private async Task RunPython(string before, string block, string after)
    {
        var script = Path.Combine(_folder, "page.py");
        await File.WriteAllTextAsync(script, before + block + "\n" + after);
        var start = new ProcessStartInfo("/usr/bin/python3", [script]) { WorkingDirectory = _folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var python = Process.Start(start)!;
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = await python.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await python.WaitForExitAsync(timeout.Token);
        Assert.True(python.ExitCode == 0, $"the page's Python exited {python.ExitCode} (python3-torch missing? eng/setup.sh installs it)\n{await stdout}\n{stderr}");
    }

    private static string PythonBlock(int index) => Block("python", index);

    private static string Block(string language, int index) => MarkdownBlocks.Block(Path.Combine("docs", "interop", "pytorch.md"), language, index);
}

using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>
/// A corpus of bad invocations run in-process through <see cref="CliRunner"/> (Program.cs's entry point): each must
/// end with exit code 2 and one or two lines on stderr that name the culprit, with no stack frame; --verbose and
/// DISTILL_DEBUG=1 add the trace.
/// </summary>
public sealed class BadInputCorpusTests : IClassFixture<BadInputCorpusTests.Folder>
{
    private readonly Folder _f;

    public BadInputCorpusTests(Folder folder) => _f = folder;

    /// <summary>Case name, arguments ({d} is the fixture folder), a text the message must hold.</summary>
    public static TheoryData<string, string[], string> Cases => new()
    {
        { "missing recipe", ["train", "--config", "{d}/nope.yaml"], "{d}/nope.yaml" },
        { "recipe is a folder", ["train", "--config", "{d}"], "{d}" },
        { "no --config", ["train"], "--config" },
        { "unknown flag", ["teacher", "--config", "{d}/ok.yaml", "--frobnicate"], "--frobnicate" },
        { "malformed YAML", ["train", "--config", "{d}/malformed.yaml"], "malformed.yaml:" },
        { "empty recipe", ["train", "--config", "{d}/empty.yaml"], "student.model" },
        { "unknown key", ["train", "--config", "{d}/unknown-key.yaml"], "train.learning_rate" },
        { "lr Infinity", ["train", "--config", "{d}/lr-infinity.yaml"], "lr-infinity.yaml:9: train.lr is 'Infinity'" },
        { "lr 1e400", ["train", "--config", "{d}/ok.yaml", "--set", "train.lr=1e400"], "train.lr is '1e400'" },
        { "lr .inf", ["train", "--config", "{d}/ok.yaml", "--set", "train.lr=.inf"], "train.lr is '.inf'" },
        { "lr NaN", ["train", "--config", "{d}/ok.yaml", "--set", "train.lr=NaN"], "train.lr is 'NaN'" },
        { "momentum above 1", ["train", "--config", "{d}/ok.yaml", "--set", "train.momentum=1.5"], "train.momentum is '1.5'" },
        { "weight decay -Infinity", ["train", "--config", "{d}/ok.yaml", "--set", "train.weight_decay=-Infinity"], "train.weight_decay" },
        { "method weight Infinity", ["train", "--config", "{d}/kd-own.yaml", "--set", "method.kd_weight=Infinity"], "method.kd_weight is 'Infinity'" },
        { "batch size 0", ["train", "--config", "{d}/ok.yaml", "--set", "data.batch_size=0"], "data.batch_size" },
        { "override without value", ["train", "--config", "{d}/ok.yaml", "--set", "train.lr"], "train.lr" },
        { "unknown method", ["train", "--config", "{d}/ok.yaml", "--method", "nosuch"], "nosuch" },
        { "method flag without value", ["train", "--config", "{d}/ok.yaml", "--method", "kd", "--temperature"], "--temperature" },
        { "unknown model", ["train", "--config", "{d}/ok.yaml", "--set", "student.model=resnet9"], "resnet9" },
        { "teacher checkpoint of another model", ["train", "--config", "{d}/kd-wrong-teacher.yaml"], "teacher.model resnet20" },
        { "teacher checkpoint missing", ["train", "--config", "{d}/kd-own.yaml", "--set", "teacher.checkpoint={d}/gone.safetensors"], "{d}/gone.safetensors" },
        { "teacher checkpoint garbage", ["train", "--config", "{d}/kd-own.yaml", "--set", "teacher.checkpoint={d}/garbage.safetensors"], "garbage.safetensors" },
        { "data root missing", ["train", "--config", "{d}/ok.yaml", "--set", "data.root={d}/no-data"], "{d}/no-data" },
        { "output is a file", ["train", "--config", "{d}/ok.yaml", "--set", "output={d}/ok.yaml"], "{d}/ok.yaml is a file" },
        { "output is empty", ["train", "--config", "{d}/ok.yaml", "--set", "output="], "output is empty" },
        { "output under a file", ["train", "--config", "{d}/ok.yaml", "--set", "output={d}/ok.yaml/run"], "{d}/ok.yaml/run: {d}/ok.yaml is a file" },
        { "disk full", ["train", "--config", "{d}/ok.yaml", "--set", "output={d}/full"], "steps.jsonl" },
        { "resume with another model", ["train", "--config", "{d}/ok.yaml", "--set", "output={d}/done", "--set", "student.model=resnet14", "--resume"], "student.model" },
        { "run folder already used", ["train", "--config", "{d}/ok.yaml", "--set", "output={d}/done"], "--resume" },
        { "eval checkpoint of another model", ["eval", "--model", "resnet20", "--checkpoint", "{d}/resnet8.safetensors", "--dataset", "idx", "--root", "{d}"], "does not fit --model resnet20" },
        { "eval missing checkpoint", ["eval", "--model", "resnet8", "--checkpoint", "{d}/gone.safetensors"], "{d}/gone.safetensors" },
        { "eval garbage checkpoint", ["eval", "--model", "resnet8", "--checkpoint", "{d}/garbage.safetensors", "--dataset", "idx", "--root", "{d}"], "garbage.safetensors" },
        { "eval detector on masks", ["eval", "--model", "det_scene_student", "--checkpoint", "{d}/garbage.safetensors", "--dataset", "scenes"], "--model det_scene_student is a detection model, but --dataset scenes is labelled with masks (segmentation)" },
        { "eval segmenter on boxes", ["eval", "--model", "scene_student", "--checkpoint", "{d}/garbage.safetensors", "--dataset", "detection-scenes"], "--model scene_student is a segmentation model, but --dataset detection-scenes is labelled with boxes (detection)" },
        { "eval classifier on boxes", ["eval", "--model", "resnet8", "--checkpoint", "{d}/resnet8.safetensors", "--dataset", "detection-scenes"], "labelled with boxes (detection)" },
        { "eval coco without --image-size", ["eval", "--model", "fcos_resnet18_fpn", "--checkpoint", "{d}/garbage.safetensors", "--dataset", "coco", "--root", "{d}"], "image_size is required" },
        { "eval unknown model", ["eval", "--model", "nope", "--checkpoint", "{d}/resnet8.safetensors"], "'nope'" },
        { "eval unknown dataset", ["eval", "--model", "resnet8", "--checkpoint", "{d}/resnet8.safetensors", "--dataset", "mnist9"], "mnist9" },
        { "compare empty --methods", ["compare", "--config", "{d}/ok.yaml", "--methods", ""], "--methods" },
        { "compare comma --methods", ["compare", "--config", "{d}/ok.yaml", "--methods", ","], "--methods ','" },
        { "compare blank --methods", ["compare", "--config", "{d}/ok.yaml", "--methods", " "], "--methods" },
        { "compare empty entry", ["compare", "--config", "{d}/ok.yaml", "--methods", "kd,,dkd"], "empty entry" },
        { "compare colon only", ["compare", "--config", "{d}/ok.yaml", "--methods", ":temperature=2"], "no method name" },
        { "compare unknown method", ["compare", "--config", "{d}/ok.yaml", "--methods", "none,nosuch"], "nosuch" },
        { "compare zero seeds", ["compare", "--config", "{d}/ok.yaml", "--seeds", "0"], "--seeds" },
        { "compare output is a file", ["compare", "--config", "{d}/ok.yaml", "--output", "{d}/ok.yaml"], "{d}/ok.yaml is a file" },
        { "quickstart empty --methods", ["quickstart", "--methods", ","], "--methods" },
        { "quickstart unknown student", ["quickstart", "--student", "nope"], "--student 'nope'" },
        { "quickstart zero epochs", ["quickstart", "--epochs", "0"], "--epochs" },
        { "quickstart epochs not a number", ["quickstart", "--epochs", "abc"], "abc" },
        { "inspect unknown model", ["inspect", "nope"], "'nope'" },
        { "inspect bad input size", ["inspect", "resnet8", "--input", "3x32"], "--input '3x32'" },
        { "inspect input too large for memory", ["inspect", "resnet8", "--input", "3x1000000x1000000"], "out of memory" },
        { "check unknown method", ["check", "--method", "nosuch", "--describe"], "nosuch" },
        { "check without inputs", ["check", "--method", "kd"], "--inputs" },
        { "check missing inputs file", ["check", "--method", "kd", "--inputs", "{d}/gone.safetensors", "--output", "{d}/out.safetensors"], "{d}/gone.safetensors" },
        { "check garbage inputs", ["check", "--method", "kd", "--inputs", "{d}/garbage.safetensors", "--output", "{d}/out.safetensors"], "garbage.safetensors" },
        { "models with 0 classes", ["models", "--classes", "0"], "--classes" },
        { "inspect with -3 classes", ["inspect", "resnet8", "--classes", "-3"], "--classes" },
        { "check epoch 0", ["check", "--method", "kd", "--describe", "--epoch", "0"], "--epoch" },
        { "unknown command", ["distil"], "distil" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_ExitsWith2_OneMessageNamingTheCulprit_NoStackTrace(string name, string[] args, string culprit)
    {
        var (code, error) = Run(args);
        Assert.True(code == 2, $"{name}: exit {code}, stderr:\n{error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length is 1 or 2, $"{name}: {lines.Length} lines on stderr:\n{error}");
        Assert.Contains(culprit.Replace("{d}", _f.Root, StringComparison.Ordinal), error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verbose_AddsTheStackTrace_AndKeepsTheExitCode()
    {
        var (code, error) = Run(["eval", "--model", "resnet20", "--checkpoint", "{d}/resnet8.safetensors", "--dataset", "idx", "--root", "{d}", "--verbose"]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DistillDebug_AddsTheStackTrace()
    {
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", Path.Combine(_f.Root, "lr-infinity.yaml")], new StringWriter(), error, name => name == "DISTILL_DEBUG" ? "1" : null);
        Assert.Equal(2, code);
        Assert.Contains("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void InternalError_Exits1_SaysItIsABug_WithoutATrace()
    {
        var (code, message) = CliRunner.Describe(new InvalidOperationException("boom"));
        Assert.Equal(1, code);
        Assert.Equal("internal error: InvalidOperationException: boom", message);
    }

    /// <summary>I/O failures root cannot provoke here (tests run as root, which ignores permissions): the mapping itself.</summary>
    [Fact]
    public void IoFailures_AreBadInput_NamingThePath()
    {
        Assert.Equal((2, "error: Access to the path '/data/run' is denied. (check the path's permissions)"),
            CliRunner.Describe(new UnauthorizedAccessException("Access to the path '/data/run' is denied.")));
        Assert.Equal((2, "error: /data/x.yaml: no such file"), CliRunner.Describe(new FileNotFoundException("Could not find file", "/data/x.yaml")));
        Assert.Equal((2, "error: I/O error: Read-only file system : '/ro/run/log.jsonl'"), CliRunner.Describe(new IOException("Read-only file system : '/ro/run/log.jsonl'")));
        Assert.Equal((130, "interrupted"), CliRunner.Describe(new OperationCanceledException()));
    }

    [Fact]
    public void LibTorchError_IsInternal_WithoutItsCppBacktrace()
    {
        var (code, message) = CliRunner.Describe(new Distill.Torch.TorchException("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)\nException raised from meta at /pytorch/aten/src/ATen/native/LinearAlgebra.cpp:1\nframe #0: c10::Error::Error"));
        Assert.Equal(1, code);
        Assert.Equal("internal error: libtorch: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)", message);
    }

    [Fact]
    public void DivergingRun_Exits3_NamesEpochStepAndTerm_SavesNoCheckpoint_AndLogsNaNAsAString()
    {
        var output = Path.Combine(_f.Root, "diverged");
        var (code, error) = Run(["train", "--config", "{d}/ok.yaml", "--set", $"output={output}", "--set", "train.lr=1e30"]);
        Assert.True(code == 3, $"exit {code}, stderr:\n{error}");
        Assert.Matches(@"^error: training diverged: loss term 'ce' is (NaN|-?Infinity) at epoch 1, step \d+; the run stopped and no checkpoint was written", error);
        Assert.False(File.Exists(Path.Combine(output, "last.safetensors")));
        Assert.False(File.Exists(Path.Combine(output, "best.safetensors")));
        Assert.Contains(File.ReadLines(Path.Combine(output, "steps.jsonl")), l => l.Contains("\"ce\":\"NaN\"", StringComparison.Ordinal) || l.Contains("Infinity\"", StringComparison.Ordinal));
    }

    private (int Code, string Error) Run(string[] args)
    {
        var error = new StringWriter();
        var code = CliRunner.Run([.. args.Select(a => a.Replace("{d}", _f.Root, StringComparison.Ordinal))], new StringWriter(), error, _ => null);
        return (code, error.ToString().Replace("\r", string.Empty, StringComparison.Ordinal));
    }

    /// <summary>The corpus's files: a tiny IDX data set, recipes good and bad, checkpoints, a finished run and a disk-full run folder.</summary>
    public sealed class Folder : IDisposable
    {
        public Folder()
        {
            TinyIdx.Write(Root, 48, 16);
            var recipe = TinyIdx.Recipe(Root, $"""
                train:
                  epochs: 1
                  lr: 0.05
                  schedule: cosine
                output: {Path.Combine(Root, "run")}
                """);
            File.WriteAllText(Path.Combine(Root, "ok.yaml"), recipe);
            File.WriteAllText(Path.Combine(Root, "lr-infinity.yaml"), recipe.Replace("lr: 0.05", "lr: Infinity", StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(Root, "unknown-key.yaml"), recipe.Replace("lr: 0.05", "learning_rate: 0.05", StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(Root, "malformed.yaml"), "student: [resnet8\ntrain:\n  lr: 0.1\n");
            File.WriteAllText(Path.Combine(Root, "empty.yaml"), string.Empty);
            File.WriteAllText(Path.Combine(Root, "garbage.safetensors"), "this is not a safetensors file at all");
            using (DisposeScope.Enter())
            {
                using var resnet8 = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 12));
                SafeTensors.Save(Path.Combine(Root, "resnet8.safetensors"), resnet8.StateDict());
            }

            var kd = $"{recipe}\nmethod:\n  name: kd\nteacher:\n  model: resnet8\n  checkpoint: {Path.Combine(Root, "resnet8.safetensors")}\n";
            File.WriteAllText(Path.Combine(Root, "kd-own.yaml"), kd);
            File.WriteAllText(Path.Combine(Root, "kd-wrong-teacher.yaml"), kd.Replace("  model: resnet8\n  checkpoint", "  model: resnet20\n  checkpoint", StringComparison.Ordinal));

            // Disk full: the run's step log is a link to /dev/full, so the first step line fails with ENOSPC.
            Directory.CreateDirectory(Path.Combine(Root, "full"));
            File.CreateSymbolicLink(Path.Combine(Root, "full", "steps.jsonl"), "/dev/full");

            // A finished one-epoch run, for --resume with another model and for reusing a run folder.
            var error = new StringWriter();
            var code = CliRunner.Run(["train", "--config", Path.Combine(Root, "ok.yaml"), "--set", $"output={Path.Combine(Root, "done")}"], new StringWriter(), error, _ => null);
            Assert.True(code == 0, error.ToString());
        }

        public string Root { get; } = Directory.CreateTempSubdirectory("distill-bad-input-").FullName;

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}

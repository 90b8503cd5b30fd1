using System.Diagnostics;
using Distill.Configs;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>`distill train --nproc`: its flags, the worker's environment variables, and the launcher's handling of its workers.</summary>
public sealed class DataParallelLaunchTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-launch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(new[] { "--nproc", "0" }, "--nproc 0: the number of processes on this machine must be at least 1")]
    [InlineData(new[] { "--nnodes", "0" }, "--nnodes 0: the number of machines must be at least 1")]
    [InlineData(new[] { "--nnodes", "2", "--node-rank", "2", "--master-port", "29500" }, "--node-rank 2: must be from 0 to 1 (--nnodes 2)")]
    [InlineData(new[] { "--master-port", "70000" }, "--master-port 70000: not a TCP port (1 to 65535)")]
    [InlineData(new[] { "--nnodes", "2" }, "--nnodes 2: give --master-port (the same on every machine)")]
    public void BadLaunchFlag_IsOneMessageNamingTheFlag_AndBadInput(string[] flags, string expected)
    {
        var recipe = Path.Combine(_directory, "r.yaml");
        File.WriteAllText(recipe, $"student:\n  model: resnet8\noutput: {Path.Combine(_directory, "out")}\n");
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", recipe, .. flags], new StringWriter(), error, _ => null);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "out")));
    }

    [Theory]
    [InlineData(new string[0], "r.yaml:3: data.batch_size 10 is the global batch of the 3 processes and must be divisible by 3")]
    [InlineData(new[] { "--set", "data.batch_size=7" }, "override --set data.batch_size=7: data.batch_size 7 is the global batch of the 3 processes")]
    public void GlobalBatchTheProcessesCannotShare_IsRefusedBeforeLaunching_NamingWhereItWasSet(string[] sets, string expected)
    {
        var recipe = Path.Combine(_directory, "r.yaml");
        File.WriteAllText(recipe, $"data:\n  dataset: fashion-mnist\n  batch_size: 10\nstudent:\n  model: resnet8\noutput: {Path.Combine(_directory, "out")}\n");
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", recipe, "--nproc", "3", .. sets], new StringWriter(), error, _ => null);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "out")));
    }

    [Fact]
    public void NprocThatIsNotANumber_IsAParseError()
    {
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", "r.yaml", "--nproc", "two"], new StringWriter(), error, _ => null);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("two", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WorkerEnvironment_IsReadTorchrunStyle_AndBadValuesNameTheVariable()
    {
        Assert.Null(DataParallelEnvironment.Read(_ => null));
        var env = new Dictionary<string, string> { ["RANK"] = "3", ["WORLD_SIZE"] = "4", ["LOCAL_RANK"] = "1", ["LOCAL_WORLD_SIZE"] = "2", ["MASTER_ADDR"] = "10.0.0.1", ["MASTER_PORT"] = "29500" };
        Assert.Equal(new DataParallelEnvironment(3, 4, 1, 2), DataParallelEnvironment.Read(env.GetValueOrDefault));
        var error = Assert.Throws<ConfigException>(() => DataParallelEnvironment.Read(new Dictionary<string, string>(env) { ["RANK"] = "4" }.GetValueOrDefault)).Message;
        Assert.Contains("RANK='4' is not a whole number from 0 to 3", error, StringComparison.Ordinal);
        error = Assert.Throws<ConfigException>(() => DataParallelEnvironment.Read(new Dictionary<string, string>(env) { ["MASTER_PORT"] = "x" }.GetValueOrDefault)).Message;
        Assert.Contains("MASTER_PORT='x'", error, StringComparison.Ordinal);
        error = Assert.Throws<ConfigException>(() => DataParallelEnvironment.Read(new Dictionary<string, string>(env) { ["MASTER_ADDR"] = string.Empty }.GetValueOrDefault)).Message;
        Assert.Contains("MASTER_ADDR is not set", error, StringComparison.Ordinal);
        Assert.Equal(1, DataParallelEnvironment.ThreadsPerRank(2, 4));
        Assert.Equal(8, DataParallelEnvironment.ThreadsPerRank(16, 2));
    }

    [Fact]
    public void Launcher_AllWorkersSucceed_RankZerosOutputShown_OthersQuiet_EnvironmentSet()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Launcher.Run(new Launcher.Plan(2, 1, 0, "127.0.0.1", 0), ["/bin/sh", "-c", "echo \"out $RANK/$WORLD_SIZE local $LOCAL_RANK $MASTER_ADDR:$MASTER_PORT threads $OMP_NUM_THREADS\"", "sh"], [], output, error);
        Assert.Equal(0, code);
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^out 0/2 local 0 127\.0\.0\.1:\d+ threads \d+$", line);
        Assert.Equal(string.Empty, error.ToString());
    }

    [Fact]
    public void Launcher_OneWorkerFails_TheOthersAreStopped_AndTheFirstFailingRankIsNamedWithItsCode()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        // Rank 1 fails at once; ranks 0 and 2 would sleep a minute.
        var code = Launcher.Run(new Launcher.Plan(3, 1, 0, "127.0.0.1", 0),
            ["/bin/sh", "-c", "if [ \"$RANK\" = 1 ]; then echo 'boom' >&2; exit 7; fi; exec sleep 60", "sh"], [], output, error);
        Assert.Equal(7, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains("[rank 1] boom", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("error: rank 1 exited first with code 7; the other 2 process(es) on this machine were stopped", error.ToString(), StringComparison.Ordinal);
    }
}

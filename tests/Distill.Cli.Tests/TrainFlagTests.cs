using System.CommandLine;
using Distill.Configs;
using Xunit;

namespace Distill.Cli.Tests;

/// <summary>train_kd.py-style method flags on `distill train`: --method tfd --lambda-inter 0.0005 --lambda-intra 0.0008.</summary>
public sealed class TrainFlagTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distill-flags-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void SeedStyleFlags_BecomeMethodOptions()
    {
        var overrides = TrainCommands.MethodFlags(["--lambda-inter", "0.0005", "--lambda_intra=0.0008", "--warmup", "5"]).ToArray();
        Assert.Equal(["method.lambda_inter=0.0005", "method.lambda_intra=0.0008", "method.warmup=5"], overrides);
        var config = ConfigLoader.Parse("student:\n  model: resnet8\n", "recipe.yaml", ["method.name=tfd", .. overrides]);
        Assert.Equal("tfd", config.Method.Name);
        Assert.Equal(0.0005, config.Method.Options["lambda_inter"]);
        Assert.Equal(0.0008, config.Method.Options["lambda_intra"]);
        Assert.Equal(5, config.Method.Options["warmup"]);
    }

    [Fact]
    public void FlagWithoutValue_AndStrayArgument_AreErrors()
    {
        Assert.Contains("flag --lambda-inter needs a value", Assert.Throws<ConfigException>(() => TrainCommands.MethodFlags(["--lambda-inter"]).ToArray()).Message, StringComparison.Ordinal);
        Assert.Contains("unexpected argument 'tfd'", Assert.Throws<ConfigException>(() => TrainCommands.MethodFlags(["tfd"]).ToArray()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_MisspelledMethodFlag_NamesTheKeyAndTheMethodsOptions()
    {
        var recipe = Path.Combine(_directory, "recipe.yaml");
        File.WriteAllText(recipe, "student:\n  model: resnet8\n");
        var error = new StringWriter();
        var code = CliRunner.Run(["train", "--config", recipe, "--kd_mode", "tfd", "--lambda-interr", "0.1"], new StringWriter(), error, _ => null);
        Assert.Equal(2, code);
        Assert.Contains("unknown key 'method.lambda_interr'", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("lambda_inter", error.ToString(), StringComparison.Ordinal);
    }
}

using System.CommandLine;
using Distill.Configs;
using Distill.Engine;
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
        var config = Recipes.Parse("student:\n  model: resnet8\n", "recipe.yaml", ["method.name=tfd", .. overrides]);
        Assert.Equal("tfd", config.Method.Name);
        Assert.Equal(0.0005, config.Method.Options["lambda_inter"]);
        Assert.Equal(0.0008, config.Method.Options["lambda_intra"]);
        Assert.Equal(5, config.Method.Options["warmup"]);
    }

    [Fact]
    public void OfficialFlagNames_AreAliases_ThatSetTheSameOptions()
    {
        const string Recipe = "student:\n  model: resnet8\nteacher:\n  model: resnet20\n  checkpoint: t.safetensors\n";
        var overrides = TrainCommands.MethodFlags(["--ofa-eps", "[1.5]", "--ofa_stage", "[1, 3]", "--ofa-loss-weight", "2"]).ToArray();
        var config = Recipes.Parse(Recipe, "recipe.yaml", ["method.name=ofa", .. overrides]);
        Assert.Equal(new[] { 1.5 }, config.Method.Options["eps"]);
        Assert.Equal(new[] { "1", "3" }, config.Method.Options["stages"]);
        Assert.Equal(2.0, config.Method.Options["ofa_weight"]);
        Assert.False(config.Method.Options.ContainsKey("ofa_eps"));
        config = Recipes.Parse(Recipe, "recipe.yaml", ["method.name=mgd", "method.alpha_mgd=2e-5", "method.lambda_mgd=0.65"]);
        Assert.Equal(2e-5, config.Method.Options["alpha"]);
        Assert.Equal(0.65, config.Method.Options["mask_ratio"]);
        config = Recipes.Parse(Recipe, "recipe.yaml", ["method.name=matching", "method.mgd_with_kd=1"]);
        Assert.Equal(true, config.Method.Options["with_kd"]);
    }

    [Fact]
    public void NameAndAliasInOneRecipe_IsAnErrorNamingBoth_ButAFlagReplacesTheRecipesSpelling()
    {
        const string Recipe = "student:\n  model: resnet8\nmethod:\n  name: tfd\n  warmup: 5\n  kd_warm_up: 10\n";
        var error = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe, "recipe.yaml", [])).Message;
        Assert.Contains("method.warmup and method.kd_warm_up are the same option", error, StringComparison.Ordinal);
        Assert.Contains("recipe.yaml:6", error, StringComparison.Ordinal);
        var config = Recipes.Parse("student:\n  model: resnet8\nmethod:\n  name: tfd\n  warmup: 5\n", "recipe.yaml", [.. TrainCommands.MethodFlags(["--kd-warm-up", "10"])]);
        Assert.Equal(10, config.Method.Options["warmup"]);
    }

    [Fact]
    public void MethodsAndDescribe_ListEveryOptionWithItsOfficialAlias()
    {
        // `distill methods` prints each descriptor's Defaults; `distill check --describe` its option lines.
        Assert.Contains("eps (ofa_eps) [1]", Distill.Methods.MethodFactory.Find("ofa")!.Defaults, StringComparison.Ordinal);
        Assert.Contains("mask_ratio (lambda_mgd) 0.15", Distill.Methods.MethodFactory.Find("mgd")!.Defaults, StringComparison.Ordinal);
        Assert.Contains("warmup 0", Distill.Methods.MethodFactory.Find("ctkd")!.Defaults, StringComparison.Ordinal);
        Assert.Contains("mmdetection-distiller", Distill.Methods.MethodFactory.Find("cwd")!.Title, StringComparison.Ordinal);
        var output = new StringWriter();
        Assert.Equal(0, DistillCommand.Create().Parse(["check", "--method", "ofa", "--describe"]).Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() }));
        Assert.Contains("  eps (ofa_eps) = [1]: ", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("  stages (ofa_stage) = []: ", output.ToString(), StringComparison.Ordinal);
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

using Distill.Configs;
using Distill.Engine;
using Xunit;

namespace Distill.Tests;

/// <summary>Every number of a recipe is finite and in range; a bad one is refused with file:line (or the override) and the key.</summary>
public sealed class ConfigValueTests
{
    private const string Recipe = """
        student:
          model: resnet8
        train:
          lr: 0.1
          momentum: 0.9
          weight_decay: 0.0005
        """;

    [Theory]
    [InlineData("lr: 0.1", "lr: Infinity", "recipe.yaml:4: train.lr is 'Infinity'; expected a finite number >= 0")]
    [InlineData("lr: 0.1", "lr: 1e400", "recipe.yaml:4: train.lr is '1e400'; expected a finite number >= 0")]
    [InlineData("lr: 0.1", "lr: .inf", "recipe.yaml:4: train.lr is '.inf'; expected a finite number >= 0")]
    [InlineData("lr: 0.1", "lr: NaN", "recipe.yaml:4: train.lr is 'NaN'; expected a finite number >= 0")]
    [InlineData("lr: 0.1", "lr: -Infinity", "recipe.yaml:4: train.lr is '-Infinity'; expected a finite number >= 0")]
    [InlineData("momentum: 0.9", "momentum: 1.5", "recipe.yaml:5: train.momentum is '1.5'; expected a finite number in [0, 1]")]
    [InlineData("momentum: 0.9", "momentum: Infinity", "recipe.yaml:5: train.momentum is 'Infinity'; expected a finite number in [0, 1]")]
    [InlineData("weight_decay: 0.0005", "weight_decay: 1e309", "recipe.yaml:6: train.weight_decay is '1e309'; expected a finite number >= 0")]
    public void NonFiniteOrOutOfRangeTrainNumber_IsRefusedWithFileAndLine(string from, string to, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe.Replace(from, to, StringComparison.Ordinal), "recipe.yaml"));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("method.ce_weight=Infinity", "override --set method.ce_weight=Infinity: method.ce_weight is 'Infinity'; expected a finite number >= 0")]
    [InlineData("method.temperature=1e400", "override --set method.temperature=1e400: method.temperature is '1e400'; expected a finite number >= 1E-09")]
    [InlineData("method.kd_weight=NaN", "override --set method.kd_weight=NaN: method.kd_weight is 'NaN'; expected a finite number >= 0")]
    public void NonFiniteMethodWeight_IsRefusedNamingTheOverride(string setting, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe, "recipe.yaml", ["method.name=kd", setting]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void EmptyOutput_IsRefused()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe + "\noutput: \"\"\n", "recipe.yaml"));
        Assert.Equal("recipe.yaml:7: output is empty; give a folder", e.Message);
    }
}

using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Parity;
using Xunit;
using Distill.Schema;

namespace Distill.Tests;

/// <summary>
/// The recipe loader reads a method section through the <see cref="IMethodSchema"/> it is given (not the method
/// registry), option texts ("temperature=2") go through the same reader, and the engine's schema states the
/// registry's options as they are.
/// </summary>
public sealed class MethodSchemaTests
{
    private const string Recipe = "student:\n  model: resnet8\n";

    [Fact]
    public void Loader_ReadsTheMethodSection_ThroughTheSchemaItIsGiven()
    {
        var config = ConfigLoader.Parse(Recipe + "method:\n  name: toy\n  w: 2.5\n  scales: [1, 4]\n  mode: b\n", new ToySchema(), "recipe.yaml");
        Assert.Equal("toy", config.Method.Name);
        Assert.Equal(2.5, config.Method.Options["weight"]);
        Assert.Equal(new[] { 1, 4 }, config.Method.Options["scales"]);
        Assert.Equal("b", config.Method.Options["mode"]);

        // A registered method that this schema does not list is unknown to the loader, and the other way round.
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Recipe + "method:\n  name: kd\n", new ToySchema(), "recipe.yaml"));
        Assert.Equal("recipe.yaml:4: method.name is 'kd'; allowed: none, toy", e.Message);
        e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Recipe + "method:\n  name: toy\n  temperature: 2\n", new ToySchema(), "recipe.yaml"));
        Assert.Equal("recipe.yaml:5: unknown key 'method.temperature'; keys of method are: name, weight, w, mode, scales", e.Message);
        e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Recipe + "method:\n  name: toy\n  needy: true\n", new ToySchema(needsTeacher: true), "recipe.yaml"));
        Assert.Contains(": method 'toy' needs teacher.model and teacher.checkpoint", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("weight=-1")]
    [InlineData("w=abc")]
    [InlineData("mode=c")]
    [InlineData("scales=[1, x]")]
    [InlineData("scales=3")]
    [InlineData("wieght=1")]
    [InlineData("weight=1|w=2")]
    public void OptionTexts_GiveTheMessageOfTheRecipesOverride(string texts)
    {
        var options = texts.Split('|');
        var fromText = Assert.Throws<ConfigException>(() => ConfigLoader.ParseMethod(new ToySchema(), "toy", options)).Message;
        var fromRecipe = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Recipe, new ToySchema(), "recipe.yaml", ["method.name=toy", .. options.Select(o => "method." + o)])).Message;
        Assert.Equal(fromRecipe, fromText);
        Assert.StartsWith("override --set method.", fromText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train.milestones=[5, x]", "override --set train.milestones=[5, x]: train.milestones holds 'x'; expected a list of integers, e.g. [150, 180, 210]")]
    [InlineData("method.scales=[1, x]", "override --set method.scales=[1, x]: method.scales holds 'x'; expected a list of integers, e.g. [150, 180, 210]")]
    public void BadItemOfAnOverridesList_IsReportedAtTheOverride_NotAtALineOfTheFile(string setting, string message)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Recipe, new ToySchema(), "recipe.yaml", ["method.name=toy", setting]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void OptionTexts_AreTypedAsTheRecipeLoaderTypesThem()
    {
        var method = ConfigLoader.ParseMethod(new ToySchema(), "toy", ["method.w=3", "scales=[1, 2]", "mode=a"]);
        Assert.Equal(new MethodConfig { Name = "toy", Options = method.Options }, method);
        Assert.Equal(3.0, method.Options["weight"]);
        Assert.Equal(new[] { 1, 2 }, method.Options["scales"]);
        Assert.Equal("a", method.Options["mode"]);
        Assert.Equal(method.Options, ConfigLoader.Parse(Recipe, new ToySchema(), overrides: ["method.name=toy", "method.w=3", "method.scales=[1, 2]", "method.mode=a"]).Method.Options);
    }

    [Fact]
    public void CheckOptions_AreTheRegistrysOptions_ReadWithoutARecipe()
    {
        var options = MethodCheck.Options("ctkd", ["base=dkd", "t_end=10", "method.warmup=3"]);
        Assert.Equal("ctkd", options.Name);
        Assert.Equal("dkd", options.Options["base"]);
        Assert.Equal(10.0, options.Options["t_range"]);
        Assert.Equal(3, options.Options["warmup"]);

        // A method that needs a teacher parses without one: no recipe (and so no teacher section) is involved.
        var e = Assert.Throws<ConfigException>(() => MethodCheck.Options("kd", ["temperature=0"]));
        Assert.Equal("override --set method.temperature=0: method.temperature is '0'; expected a finite number >= 1E-09", e.Message);
    }

    [Fact]
    public void RegistrySchema_StatesEveryMethodAsTheRegistryDoes()
    {
        foreach (var descriptor in MethodFactory.Descriptors.Prepend(MethodFactory.None))
        {
            var spec = Recipes.Methods.Find(descriptor.Name)!;
            Assert.Equal(descriptor.NeedsTeacher, spec.NeedsTeacher);
            Assert.Equal(descriptor.Keys, spec.Keys);
            Assert.Equal(descriptor.Options.Select(o => (o.Key, o.Kind.ToString(), o.Minimum, string.Join(",", o.Allowed), o.DisplayName)),
                spec.Options.Select(o => (o.Key, o.Kind.ToString(), o.Minimum, string.Join(",", o.Allowed), o.DisplayName)));
        }

        Assert.Equal(MethodFactory.Names, Recipes.Methods.Names);
        Assert.Null(Recipes.Methods.Find("nosuch"));
    }

    [Fact]
    public void MethodBuilder_UnknownNameOrBadOption_IsAConfigErrorNamingTheMethod()
    {
        var e = Assert.Throws<ConfigException>(() => MethodBuilder.Create(new MethodConfig { Name = "nosuch" }));
        Assert.Equal($"method 'nosuch' is not one of {string.Join(", ", MethodFactory.Names)}", e.Message);
        e = Assert.Throws<ConfigException>(() => MethodBuilder.Create(MethodCheck.Options("fitnet", ["tap=stage7"]), MethodCheck.ExampleContext()));
        Assert.StartsWith("method fitnet: ", e.Message, StringComparison.Ordinal);
        using var kd = MethodBuilder.Create(MethodCheck.Options("kd", ["kd_T=2"]));
        Assert.Equal("kd", kd.Name);
    }

    /// <summary>A schema with one method that the registry does not know.</summary>
    private sealed class ToySchema(bool needsTeacher = false) : IMethodSchema
    {
        private readonly MethodSpec _toy = new("toy",
        [
            new OptionSpec("weight", OptionKind.Number) { Minimum = 0, Aliases = ["w"] },
            new OptionSpec("mode", OptionKind.Choice) { Allowed = ["a", "b"] },
            new OptionSpec("scales", OptionKind.IntegerList),
            .. needsTeacher ? new[] { new OptionSpec("needy", OptionKind.Boolean) } : [],
        ], needsTeacher);

        public IReadOnlyList<string> Names => ["none", "toy"];

        public MethodSpec? Find(string name) => name switch
        {
            "toy" => _toy,
            "none" => new MethodSpec("none", [], false),
            _ => null,
        };
    }
}

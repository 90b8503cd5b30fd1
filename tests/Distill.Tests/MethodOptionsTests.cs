using Distill.Methods;
using Xunit;
using Distill.Schema;

namespace Distill.Tests;

/// <summary>
/// The typed options records and the plain API: the registry reads each method's record (keys, order, defaults,
/// bounds), `MethodFactory.Create` builds a method by name from a dictionary or from its typed record, and both
/// check values with the recipe's rules, one ArgumentException naming the method, key, value and bound.
/// </summary>
public sealed class MethodOptionsTests
{
    [Fact]
    public void Registry_ReadsTheRecord_KeysAreSnakeCaseInDeclarationOrder_DefaultsFromInitialisers()
    {
        var ctkd = MethodFactory.Find("ctkd")!;
        Assert.Equal(typeof(CurriculumTemperatureDistillation.Options), ctkd.OptionsType);
        Assert.Equal(
            ["base", "temperature_mode", "ce_weight", "kd_weight", "alpha", "beta", "warmup", "t_start", "t_range", "decay_epochs", "lambda_min", "lambda_max", "instance_hidden", "logit_standardization"],
            ctkd.Options.Select(o => o.Key));
        Assert.Equal(["kd", "dkd"], ctkd.Option("base")!.Allowed);
        Assert.Equal(["t_end"], ctkd.Option("t_range")!.Aliases);
        Assert.Equal(1, ctkd.Option("decay_epochs")!.Minimum);
        Assert.Equal(OptionKind.IntegerList, MethodFactory.Find("sdd")!.Option("M")!.Kind);

        // tfd and tfd+ share one record of common options; tfd+'s record adds two after them.
        Assert.Equal([.. MethodFactory.Find("tfd")!.Options.Select(o => o.Key), "kd_weight", "temperature"], MethodFactory.Find("tfd+")!.Options.Select(o => o.Key));
        Assert.False(MethodFactory.Find("tfd")!.NeedsTeacher);
        Assert.True(MethodFactory.Find("tfd+")!.NeedsTeacher);
    }

    [Fact]
    public void EveryBuiltInDescriptor_IsItsRecords_AndTheRecordsDefaultsBuildTheSameMethodAsNoOptions()
    {
        Assert.All(MethodFactory.Descriptors, d => Assert.True(d.OptionsType?.IsSubclassOf(typeof(MethodOptions)), d.Name));
        using var byName = (DecoupledKnowledgeDistillation)MethodFactory.Create("dkd");
        using var typed = (DecoupledKnowledgeDistillation)MethodFactory.Create(new DecoupledKnowledgeDistillation.Options());
        Assert.Equal((byName.Alpha, byName.Beta, byName.Temperature, byName.CeWeight, byName.WarmupEpochs), (typed.Alpha, typed.Beta, typed.Temperature, typed.CeWeight, typed.WarmupEpochs));
        Assert.Equal((1.0, 8.0, 4.0, 1.0, 20), (typed.Alpha, typed.Beta, typed.Temperature, typed.CeWeight, typed.WarmupEpochs));
    }

    [Fact]
    public void PlainApiByName_TakesAliasesAndIntegersForNumbers()
    {
        using var dkd = (DecoupledKnowledgeDistillation)MethodFactory.Create("dkd", new Dictionary<string, object> { ["dkd_beta"] = 2, ["warmup"] = 5 });
        Assert.Equal(2.0, dkd.Beta);
        Assert.Equal(5, dkd.WarmupEpochs);

        using var typed = (DecoupledKnowledgeDistillation)MethodFactory.Create(new DecoupledKnowledgeDistillation.Options { Beta = 2 });
        Assert.Equal(2.0, typed.Beta);
    }

    [Theory]
    [InlineData("dkd", "temperature", 0.0, ">= 1E-09")]
    [InlineData("kd", "kd_weight", -1.0, ">= 0")]
    [InlineData("ctkd", "decay_epochs", 0, ">= 1")]
    [InlineData("ctkd", "base", "dkd2", "one of kd, dkd")]
    public void PlainApiByName_OutOfBounds_IsOneArgumentExceptionNamingMethodKeyValueAndBound(string method, string key, object value, string bound)
    {
        var error = Assert.Throws<ArgumentException>(() => MethodFactory.Create(method, new Dictionary<string, object> { [key] = value }));
        Assert.Contains($"method {method}: {key} is ", error.Message, StringComparison.Ordinal);
        Assert.Contains(MethodOption.Format(value).Trim('"'), error.Message, StringComparison.Ordinal);
        Assert.Contains(bound, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypedOptions_AreValidatedAsRecipesAre()
    {
        var temperature = Assert.Throws<ArgumentException>(() => MethodFactory.Create(new DecoupledKnowledgeDistillation.Options { Temperature = 0 }));
        Assert.Equal("method dkd: temperature is 0; expected a number >= 1E-09", temperature.Message);

        // Checked before the networks are looked at: mgd needs maps, the bad choice is found first.
        var mask = Assert.Throws<ArgumentException>(() => MethodFactory.Create(new MaskedGenerativeDistillation.Options { Mask = "grid" }));
        Assert.Equal("method mgd: mask is 'grid'; expected one of channel, spatial", mask.Message);

        var infinite = Assert.Throws<ArgumentException>(() => MethodFactory.Create(new KnowledgeDistillation.Options { KdWeight = double.PositiveInfinity }));
        Assert.Contains("method kd: kd_weight is ", infinite.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlainApiByName_UnknownNameKeyOrWrongType_AreClearErrors()
    {
        Assert.Contains("method 'kdd' is not one of none, kd, dkd", Assert.Throws<ArgumentException>(() => MethodFactory.Create("kdd")).Message, StringComparison.Ordinal);
        var key = Assert.Throws<ArgumentException>(() => MethodFactory.Create("kd", new Dictionary<string, object> { ["temprature"] = 2.0 }));
        Assert.Equal("method kd has no option 'temprature' (options: temperature, kd_T, ce_weight, gamma, kd_weight, alpha, logit_standardization)", key.Message);
        var type = Assert.Throws<ArgumentException>(() => MethodFactory.Create("kd", new Dictionary<string, object> { ["temperature"] = "hot" }));
        Assert.Equal("method kd: temperature is hot (String); expected a number", type.Message);
    }

    [Fact]
    public void DefaultThatDependsOnAnotherOption_ShowsItsResolvedValue_AndFollowsTheRule()
    {
        var ctkd = MethodFactory.Find("ctkd")!;
        Assert.Equal(0.1, ctkd.Option("ce_weight")!.Default);
        Assert.Equal(0.9, ctkd.Option("kd_weight")!.Default);
        Assert.Null(new CurriculumTemperatureDistillation.Options().CeWeight);

        using var kdBase = (CurriculumTemperatureDistillation)MethodFactory.Create("ctkd");
        using var dkdBase = (CurriculumTemperatureDistillation)MethodFactory.Create("ctkd", new Dictionary<string, object> { ["base"] = "dkd" });
        using var given = (CurriculumTemperatureDistillation)MethodFactory.Create(new CurriculumTemperatureDistillation.Options { Base = "dkd", CeWeight = 0.3 });
        Assert.Equal((0.1, 0.9), (kdBase.CeWeight, kdBase.KdWeight));
        Assert.Equal((1.0, 1.0), (dkdBase.CeWeight, dkdBase.KdWeight));
        Assert.Equal((0.3, 1.0), (given.CeWeight, given.KdWeight));
        Assert.Equal(1.0, ((ScaleDecoupledDistillation)MethodFactory.Create(new ScaleDecoupledDistillation.Options { Base = "dkd", Tap = "stage3" })).CeWeight);
    }

    [Fact]
    public void ARecordPropertyWithoutOptionInfo_IsRefusedWhenRegistered()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MethodFactory.Register<Undocumented>("undocumented", "-", "-", (_, _) => new NoDistillation()));
        Assert.Contains("Undocumented.Weight has no [OptionInfo(...)]", error.Message, StringComparison.Ordinal);
        Assert.Null(MethodFactory.Find("undocumented"));
    }

    [Fact]
    public void TypedCreate_OfARecordNoMethodRegistered_IsAnError()
    {
        var error = Assert.Throws<ArgumentException>(() => MethodFactory.Create(new Unregistered()));
        Assert.Contains("no registered method has the options", error.Message, StringComparison.Ordinal);
    }

    private sealed record Undocumented : MethodOptions
    {
        public double Weight { get; init; } = 1;
    }

    private sealed record Unregistered : MethodOptions
    {
        [OptionInfo("a weight")]
        public double Weight { get; init; } = 1;
    }
}

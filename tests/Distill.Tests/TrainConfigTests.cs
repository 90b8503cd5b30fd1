using Distill.Configs;
using Distill.Engine;
using Xunit;

namespace Distill.Tests;

/// <summary>The optimizer, schedule and clipping keys of the train section: read, refused at their line when they cannot run, written back.</summary>
public sealed class TrainConfigTests
{
    private const string Recipe = """
        student:
          model: resnet8
        train:
          epochs: 4
        """;

    [Fact]
    public void RecipeWithoutTheNewKeys_KeepsTodaysDefaults_AndWritesNoNewKey()
    {
        var config = Recipes.Parse(Recipe, "recipe.yaml");
        Assert.Equal(("sgd", "multistep", "epoch", 0.0), (config.Train.Optimizer, config.Train.Schedule, config.Train.StepPer, config.Train.GradClip));
        var yaml = ConfigWriter.ToYaml(config);
        foreach (var key in new[] { "optimizer", "nesterov", "betas", "eps", "no_weight_decay_on", "method_lr_mult", "step_per", "warmup", "power", "eta_min", "grad_clip" })
        {
            Assert.DoesNotContain($"  {key}", yaml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryNewKey_ReadsBackFromTheWrittenYaml()
    {
        var config = Recipes.Parse(Recipe + """

              optimizer: adamw
              betas: [0.8, 0.99]
              eps: 1e-6
              no_weight_decay_on: [bn, bias]
              method_lr_mult: 10
              schedule: poly
              power: 1.5
              step_per: iteration
              warmup_iters: 50
              warmup_start_factor: 0.01
              grad_clip: 5
            """, "recipe.yaml");
        Assert.Equal(("adamw", "poly", "iteration", 50, 5.0), (config.Train.Optimizer, config.Train.Schedule, config.Train.StepPer, config.Train.WarmupIters, config.Train.GradClip));
        Assert.Equal([0.8, 0.99], config.Train.Betas);
        var yaml = ConfigWriter.ToYaml(config);
        Assert.Equal(yaml, ConfigWriter.ToYaml(Recipes.Parse(yaml, "config.yaml")));
    }

    [Theory]
    [InlineData("optimizer: lion", "recipe.yaml:5: train.optimizer is 'lion'; allowed: sgd, adam, adamw")]
    [InlineData("optimizer: adam\n  nesterov: true", "recipe.yaml:6: train.nesterov is an option of sgd, but train.optimizer is adam")]
    [InlineData("betas: [0.9, 0.999]", "recipe.yaml:5: train.betas is an option of adam and adamw, but train.optimizer is sgd")]
    [InlineData("optimizer: adamw\n  betas: [0.9]", "recipe.yaml:6: train.betas must be two numbers in [0, 1) (e.g. [0.9, 0.999]), not [0.9]")]
    [InlineData("momentum: 0\n  nesterov: true", "recipe.yaml:6: train.nesterov needs a train.momentum above 0")]
    [InlineData("no_weight_decay_on: [bn, norm]", "recipe.yaml:5: train.no_weight_decay_on: 'norm' is not one of bn, bias")]
    [InlineData("schedule: cosine\n  power: 2", "recipe.yaml:6: train.power belongs to the poly schedule, but train.schedule is cosine")]
    [InlineData("warmup_iters: 10", "recipe.yaml:5: train.warmup_iters needs train.step_per: iteration (use warmup_epochs for a per-epoch schedule)")]
    [InlineData("step_per: iteration\n  warmup_epochs: 1\n  warmup_iters: 10", "recipe.yaml:7: give train.warmup_epochs or train.warmup_iters, not both")]
    [InlineData("schedule: onecycle\n  warmup_epochs: 1", "recipe.yaml:6: the onecycle schedule warms up by itself (its first 30% of steps); drop the warm-up")]
    [InlineData("warmup_epochs: 4", "recipe.yaml:5: train.warmup_epochs (4) must be shorter than train.epochs (4)")]
    [InlineData("step_per: batch", "recipe.yaml:5: train.step_per is 'batch'; allowed: epoch, iteration")]
    public void TrainKeyThatCannotRun_IsRefusedAtItsLine(string lines, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe + "\n  " + lines + "\n", "recipe.yaml"));
        Assert.Equal(message, e.Message);
    }
}

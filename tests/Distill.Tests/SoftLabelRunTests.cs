using Distill.Configs;
using Distill.Engine;
using Distill.Engine.SoftLabels;
using Distill.Testing;
using Xunit;

namespace Distill.Tests;

/// <summary>teacher.soft_labels end to end on IDX files the test writes: a teacher's store built from its recipe, KD trained from it, a feature method and changed transforms refused.</summary>
public sealed class SoftLabelRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-softrun-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TeacherSoftLabels_TrainsKdFromTheStore_AndRefusesAFeatureMethodOrChangedTransforms_NamingThem()
    {
        TinyIdx.Write(_root, 64, 32);
        var recipe = TinyIdx.Recipe(_root, $"""
            train:
              epochs: 1
              lr: 0.05
              seed: 3
            output: {Path.Combine(_root, "teacher")}
            """);
        var teacher = Recipes.Parse(recipe);
        TrainingRun.Execute(teacher);
        var store = SoftLabelBuilder.Build(teacher, draws: 2, topK: 0);
        Assert.Equal(Path.Combine(teacher.Output, SoftLabelBuilder.FileName), store);

        string[] fromStore = ["teacher.model=resnet8", $"teacher.checkpoint={Path.Combine(teacher.Output, "best.safetensors")}", $"teacher.soft_labels={store}", "train.epochs=1"];
        var notices = new StringWriter();
        var kd = TrainingRun.Execute(Recipes.Parse(recipe, overrides: ["method.name=kd", .. fromStore, $"output={Path.Combine(_root, "kd")}"]), notices: notices);
        Assert.Equal(["ce", "kd"], kd.Epochs[0].LossTerms.Keys);
        Assert.True(double.IsFinite(kd.Epochs[0].LossTerms["kd"]));
        Assert.Contains("2 recorded draws per image", notices.ToString(), StringComparison.Ordinal);

        var crd = Assert.Throws<ConfigException>(() => TrainingRun.Execute(Recipes.Parse(recipe, overrides: ["method.name=crd", .. fromStore, $"output={Path.Combine(_root, "crd")}"])));
        Assert.Contains("method 'crd' reads the teacher's features", crd.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "crd")), "a refused recipe left its run folder behind");

        var flip = Assert.Throws<ConfigException>(() => TrainingRun.Execute(Recipes.Parse(recipe, overrides: ["method.name=kd", .. fromStore, "data.augment=crop", $"output={Path.Combine(_root, "noflip")}"])));
        Assert.Contains("the training transforms", flip.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "noflip")), "a recipe refused over a stale store left its run folder behind");
    }

    [Fact]
    public void TeacherSoftLabels_InASegmentationRecipe_IsRefusedBeforeTheRunFolderIsMade()
    {
        var output = Path.Combine(_root, "seg");
        var recipe = Recipes.Parse($"""
            task: segmentation
            data:
              dataset: scenes
              train_subset: 16
              test_subset: 8
              batch_size: 8
            student:
              model: scene_student
            teacher:
              model: scene_teacher
              checkpoint: {Path.Combine(_root, "teacher.safetensors")}
              soft_labels: {Path.Combine(_root, "soft-labels.safetensors")}
            method:
              name: cwd
            train:
              epochs: 1
              lr: 0.05
            output: {output}
            """);
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(recipe));
        Assert.Contains("teacher.soft_labels: a soft-label store serves classification only", e.Message, StringComparison.Ordinal);
        Assert.Contains("segmentation", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output), "a refused recipe left its run folder behind");
    }
}

using System.Collections;
using System.Globalization;
using Distill.Configs;
using Distill.Engine;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// The recipe schema (<see cref="RecipeSchema"/>) is the one statement of the data, student, teacher, train and output
/// keys: every key it lists is read by the loader, written back by the writer, and read by the run; the drifts that
/// were there before it (keys accepted, then ignored) are now either honoured or refused at their line.
/// </summary>
public sealed class RecipeSchemaTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-schema-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>
    /// For each key: a non-default value as an override, the overrides it needs to apply, and what the run reads of it
    /// (null: read by <see cref="TrainingRun"/> itself, named in the reason). Train keys are probed through the trainer's
    /// options the run builds, data keys through the loaders <see cref="DatasetFactory"/> builds.
    /// </summary>
    // The segmentation folder keys: read by DatasetFactory (SegmentationRunTests builds loaders from them on exported scenes).
    private const string Folder = "data.dataset=segmentation-folder";
    private const string Reads = "DatasetFactory reads it: SegmentationRunTests.SegmentationFolderRecipe_ReadsItsPresetFoldersSplitsAndTrainingCropsScales";

    private Dictionary<string, (string Setting, string[] Context, Func<RunConfig, string>? Probe, string? ReadBy)> Samples()
    {
        var other = Path.Combine(_root, "other");
        Directory.CreateDirectory(other);
        TinyIdx.Write(other, 40, 24);
        string Options(RunConfig c) => Describe(TrainingRun.Options(c.Train, Device.Cpu, 6));
        return new(StringComparer.Ordinal)
        {
            ["data.dataset"] = ("folder", [], null, "every value is built by DatasetFactory: EveryDatasetTheLoaderAccepts_IsBuiltByDatasetFactory"),
            ["data.root"] = (other, [], c => Loaders(c, l => l.Train.Dataset.Count.ToString(CultureInfo.InvariantCulture)), null),
            ["data.train_subset"] = ("5", [], c => Loaders(c, l => l.Train.Dataset.Count.ToString(CultureInfo.InvariantCulture)), null),
            ["data.test_subset"] = ("5", [], c => Loaders(c, l => l.Test.Dataset.Count.ToString(CultureInfo.InvariantCulture)), null),
            ["data.batch_size"] = ("8", [], c => Loaders(c, l => l.Train.BatchCount.ToString(CultureInfo.InvariantCulture)), null),
            ["data.augment"] = ("crop", [], c => Loaders(c, FirstImages), null),
            ["data.image_size"] = ("16", [], c => Loaders(c, l => $"{l.Height}x{l.Width}"), null),
            ["data.test_batch_size"] = ("7", [], c => Loaders(c, l => l.Test.BatchSize.ToString(CultureInfo.InvariantCulture)), null),
            ["data.preset"] = ("cityscapes", [Folder], null, Reads),
            ["data.classes"] = ("5", [Folder], null, Reads),
            ["data.img_dir"] = ("x/{split}", [Folder], null, Reads),
            ["data.ann_dir"] = ("y/{split}", [Folder], null, Reads),
            ["data.ann_file"] = ("ann/{split}.json", ["data.dataset=coco"], null, "DatasetFactory reads it: DetectionDataTests.CocoRecipe_ReadsItsAnnFileImgDirAndSplits_AndResizesBoxesToImageSize"),
            ["data.img_suffix"] = (".jpg", [Folder], null, Reads),
            ["data.seg_map_suffix"] = ("_mask.png", [Folder], null, Reads),
            ["data.label_map"] = ("cityscapes", [Folder], null, Reads),
            ["data.reduce_zero_label"] = ("true", [Folder], null, Reads),
            ["data.train_split"] = ("training", [Folder], null, Reads),
            ["data.test_split"] = ("validation", [Folder], null, Reads),
            ["data.scale_range"] = ("[0.5, 2.0]", [Folder], null, Reads),
            ["data.crop_size"] = ("32", [Folder], null, Reads),
            ["data.cat_max_ratio"] = ("0.75", [Folder], null, Reads),
            ["student.backbone_weights"] = ("r18.safetensors", [], null, "TrainingRun loads it into a segmenter's backbone: BackboneWeights_StartTheSegmentersBackbone"),
            ["student.model"] = ("resnet20", [], null, "TrainingRun creates it (TrainingRunTests)"),
            ["student.checkpoint"] = ("s.safetensors", [], null, "TrainingRun starts from it: StudentCheckpoint_IsWhereTheStudentStarts"),
            ["student.channels_last"] = ("false", [], null, "TrainingRun keeps the student as built (StudentChannelsLastTests' runs)"),
            ["teacher.model"] = ("resnet20", [], null, "TrainingRun loads it for a method with a teacher (TrainingRunTests' KD run)"),
            ["teacher.checkpoint"] = ("t.safetensors", ["teacher.model=resnet20"], null, "TrainingRun loads it (TrainingRunTests' KD run)"),
            ["teacher.soft_labels"] = ("soft-labels.safetensors", ["teacher.model=resnet20"], null, "TrainingRun opens the store and trains from it (SoftLabelRunTests)"),
            ["teacher.precision"] = ("bf16", ["teacher.model=resnet20"], null, "TrainingTeacher.ForTraining copies the teacher in bfloat16 (TeacherPrecisionTests' KD and FitNet runs)"),
            ["teacher.fold_bn"] = ("false", ["teacher.model=resnet20"], null, "TrainingTeacher.ForTraining trains with the teacher as loaded (TeacherFoldingTests' KD runs with and without folding)"),
            ["teacher.channels_last"] = ("false", ["teacher.model=resnet20"], null, "TrainingTeacher.ForTraining keeps the teacher's images as loaded (TeacherFoldingTests' channels-last checks)"),
            ["train.epochs"] = ("7", [], Options, null),
            ["train.lr"] = ("0.2", [], Options, null),
            ["train.optimizer"] = ("adamw", [], Options, null),
            ["train.momentum"] = ("0.5", [], Options, null),
            ["train.nesterov"] = ("true", [], Options, null),
            ["train.betas"] = ("[0.8, 0.99]", ["train.optimizer=adam"], Options, null),
            ["train.eps"] = ("1e-6", ["train.optimizer=adam"], Options, null),
            ["train.weight_decay"] = ("0.01", [], Options, null),
            ["train.no_weight_decay_on"] = ("[bn]", [], Options, null),
            ["train.method_lr_mult"] = ("10", [], Options, null),
            ["train.schedule"] = ("cosine", [], Options, null),
            ["train.step_per"] = ("iteration", [], Options, null),
            ["train.milestones"] = ("[5, 7]", [], Options, null),
            ["train.warmup_epochs"] = ("2", [], Options, null),
            ["train.warmup_iters"] = ("20", ["train.step_per=iteration"], Options, null),
            ["train.warmup_start_factor"] = ("0.5", ["train.warmup_epochs=1"], Options, null),
            ["train.power"] = ("2", ["train.schedule=poly"], Options, null),
            ["train.eta_min"] = ("0.001", ["train.schedule=cosine"], Options, null),
            ["train.grad_clip"] = ("5", [], Options, null),
            ["train.sync_bn"] = ("true", [], Options, null),
            ["train.seed"] = ("4", [], c => Loaders(c, FirstIndices), null),
            ["train.device"] = ("cuda", [], null, "TrainingRun resolves it and every tensor goes there (DevicePlumbingTests)"),
            ["task"] = ("segmentation", [], null, "TrainingRun gives the trainer its task (TrainingTaskTests, SegmentationTaskTests)"),
            ["output"] = ("runs/other", [], null, "TrainingRun writes the run there (TrainingRunTests)"),
        };
    }

    [Fact]
    public void EveryKeyTheLoaderAccepts_RoundTripsThroughTheWriter_AndIsReadByTheRun()
    {
        TinyIdx.Write(_root, 48, 24);
        var samples = Samples();
        Assert.Equal(RecipeSchema.Keys.Select(k => k.Path).Order(StringComparer.Ordinal), samples.Keys.Order(StringComparer.Ordinal));
        var recipe = TinyIdx.Recipe(_root, "train:\n  epochs: 3\n");
        foreach (var key in RecipeSchema.Keys)
        {
            var (setting, context, probe, readBy) = samples[key.Path];
            if (key.Allowed.Count == 1)
            {
                // A choice of one value (task: classification until the segmentation issue) has no other value to set.
                Assert.Equal(setting, key.Get(Recipes.Parse(recipe, "recipe.yaml", [.. context, $"{key.Path}={setting}"])));
                continue;
            }

            var before = Recipes.Parse(recipe, "recipe.yaml", context);
            var after = Recipes.Parse(recipe, "recipe.yaml", [.. context, $"{key.Path}={setting}"]);
            Assert.True(key.Format(key.Get(before)) != key.Format(key.Get(after)), $"{key.Path}={setting} is its default: choose another sample");

            var yaml = ConfigWriter.ToYaml(after);
            Assert.Contains(ConfigWriter.Entries(after), e => e.Key == key.Path);
            var again = Recipes.Parse(yaml, "config.yaml");
            Assert.Equal(key.Format(key.Get(after)), key.Format(key.Get(again)));
            Assert.Equal(yaml, ConfigWriter.ToYaml(again));

            if (probe is null)
            {
                Assert.False(string.IsNullOrEmpty(readBy), key.Path);
            }
            else
            {
                Assert.True(probe(before) != probe(after), $"{key.Path}={setting} changes nothing the run reads");
            }
        }
    }

    [Fact]
    public void EveryDatasetTheLoaderAccepts_IsBuiltByDatasetFactory()
    {
        var key = RecipeSchema.Find("data.dataset")!;
        Assert.Equal(DatasetCatalog.Names, key.Allowed);
        foreach (var dataset in key.Allowed)
        {
            // An empty folder: each data set's own reader says which file is missing; none is "not supported".
            var config = Recipes.Parse($"data:\n  dataset: {dataset}\n  root: {_root}\nstudent:\n  model: resnet8\n");
            var e = Assert.Throws<DataFormatException>(() => DatasetFactory.Create(config.Data, 0));
            Assert.DoesNotContain("not supported", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StudentCheckpoint_IsWhereTheStudentStarts_AndAnotherModelsWeightsAreRefused()
    {
        TinyIdx.Write(_root, 32, 16);
        var start = Path.Combine(_root, "start.safetensors");
        string[] names;
        using (DisposeScope.Enter())
        {
            TorchRuntime.ManualSeed(77);
            using var model = ModelRegistry.Create("resnet8", new ModelOptions(10, 1, 12));
            names = [.. model.NamedParameters().Select(p => p.Name)];
            SafeTensors.Save(start, model.StateDict());
        }

        // lr 0: the weights the run ends with are those it started from.
        var config = Recipes.Parse(TinyIdx.Recipe(_root, $"""
              checkpoint: {start}
            train:
              epochs: 1
              lr: 0
              seed: 3
            output: {Path.Combine(_root, "run")}
            """));
        TrainingRun.Execute(config, notices: TextWriter.Null);
        using (DisposeScope.Enter())
        {
            using var expected = SafeTensors.Load(start);
            using var trained = SafeTensors.Load(Path.Combine(config.Output, "best.safetensors"));
            foreach (var name in names)
            {
                Assert.True(expected.Tensors[name].ToArray<float>().SequenceEqual(trained.Tensors[name].ToArray<float>()), name);
            }
        }

        var wider = Path.Combine(_root, "wider.safetensors");
        using (DisposeScope.Enter())
        {
            using var model = ModelRegistry.Create("resnet20", new ModelOptions(10, 1, 12));
            SafeTensors.Save(wider, model.StateDict());
        }

        var e = Assert.Throws<ConfigException>(() => TrainingRun.Execute(config with { Student = config.Student with { Checkpoint = wider }, Output = Path.Combine(_root, "wider") }, notices: TextWriter.Null));
        Assert.Contains("student.model", e.Message, StringComparison.Ordinal);
        Assert.Contains(wider, e.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ConfigException>(() => TrainingRun.Execute(config with { Student = config.Student with { Checkpoint = Path.Combine(_root, "none.safetensors") }, Output = Path.Combine(_root, "none") }, notices: TextWriter.Null));
        Assert.StartsWith($"student.checkpoint {Path.Combine(_root, "none.safetensors")} does not exist", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Momentum_WithAnAdamOptimizer_IsRefusedAtItsLine_AndNotWritten(string optimizer)
    {
        const string Recipe = "student:\n  model: resnet8\ntrain:\n  optimizer: {0}\n  momentum: 0.5\n";
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(string.Format(CultureInfo.InvariantCulture, Recipe, optimizer), "recipe.yaml"));
        Assert.Equal($"recipe.yaml:5: train.momentum is an option of sgd, but train.optimizer is {optimizer}", e.Message);
        var config = Recipes.Parse($"student:\n  model: resnet8\ntrain:\n  optimizer: {optimizer}\n");
        Assert.DoesNotContain("momentum", ConfigWriter.ToYaml(config), StringComparison.Ordinal);
        Assert.Contains("  momentum: 0.9\n", ConfigWriter.ToYaml(Recipes.Parse("student:\n  model: resnet8\n")), StringComparison.Ordinal);
    }

    [Fact]
    public void WarmupStartFactor_WithoutAWarmup_IsRefusedAtItsLine()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse("student:\n  model: resnet8\ntrain:\n  warmup_start_factor: 0.5\n", "recipe.yaml"));
        Assert.Equal("recipe.yaml:4: train.warmup_start_factor belongs to a warm-up, but train.warmup_epochs and train.warmup_iters are 0", e.Message);
        Assert.Equal(0.5, Recipes.Parse("student:\n  model: resnet8\ntrain:\n  warmup_epochs: 1\n  warmup_start_factor: 0.5\n").Train.WarmupStartFactor);
    }

    [Fact]
    public void Milestones_AreWrittenOnlyForMultistep_AndStillReadFromOlderRecipesOfOtherSchedules()
    {
        var cosine = Recipes.Parse("student:\n  model: resnet8\ntrain:\n  schedule: cosine\n  milestones: [150, 180, 210]\n", "recipe.yaml");
        Assert.DoesNotContain("milestones", ConfigWriter.ToYaml(cosine), StringComparison.Ordinal);
        Assert.Contains("  milestones: [150, 180, 210]\n", ConfigWriter.ToYaml(cosine with { Train = cosine.Train with { Schedule = "multistep" } }), StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AreTheRecordsInitialisers_AndTheTrainersToo()
    {
        var config = Recipes.Parse("student:\n  model: resnet8\n");
        var records = new RunConfig();
        foreach (var key in RecipeSchema.Keys.Where(k => k.Section is "data" or "train" or ""))
        {
            Assert.Equal(key.Format(key.Get(records)), key.Format(key.Get(config)));
        }

        // The trainer's own defaults are the train section's.
        Assert.Equal(Describe(TrainingRun.Options(new TrainConfig(), Device.Cpu, 0)), Describe(new TrainerOptions()));
    }

    [Fact]
    public void EveryDefault_IsAValueTheLoaderAccepts()
    {
        // data.image_size's default, 0 (keep the size), was refused when given ("expected an integer >= 1").
        foreach (var key in RecipeSchema.Keys.Where(k => k.Required is null && k.AppliesWhen is not { Refused: true } && k.Default is not null))
        {
            var line = $"{key.Name}: {key.Format(key.Default)}";
            var yaml = key.Section switch
            {
                "" => $"student:\n  model: resnet8\n{line}\n",
                "student" => $"student:\n  model: resnet8\n  {line}\n",
                _ => $"student:\n  model: resnet8\n{key.Section}:\n  {line}\n",
            };
            var config = Recipes.Parse(key.Section == "teacher" ? yaml + "  model: resnet8\n" : yaml, "recipe.yaml");
            Assert.Equal(key.Format(key.Default), key.Format(key.Get(config)));
        }
    }

    [Fact]
    public void ReadmeTables_AreTheSchemas()
    {
        var readme = File.ReadAllText(Path.Combine(SourceDirectory(), "..", "..", "README.md"));
        var missing = new[] { "data", "student", "teacher", "train" }.Where(s => !readme.Contains(RecipeSchema.Markdown(s), StringComparison.Ordinal)).ToArray();
        Assert.True(missing.Length == 0, string.Concat(missing.Select(s => $"README.md lacks the {s} table the schema gives; paste it:\n{RecipeSchema.Markdown(s)}\n")));
    }

    private DatasetFactory.Loaders Create(RunConfig config) => DatasetFactory.Create(config.Data, (ulong)config.Train.Seed);

    private string Loaders(RunConfig config, Func<DatasetFactory.Loaders, string> read) => read(Create(config));

    private static string FirstImages(DatasetFactory.Loaders loaders)
    {
        using var scope = DisposeScope.Enter();
        return string.Join(",", loaders.Train.Epoch(0).First().Images.ToArray<float>().Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
    }

    private static string FirstIndices(DatasetFactory.Loaders loaders)
    {
        using var scope = DisposeScope.Enter();
        return string.Join(",", loaders.Train.Epoch(0).First().Indices.ToArray<long>());
    }

    /// <summary>Every property of the trainer's options, lists and tuples by their values.</summary>
    private static string Describe(TrainerOptions options) =>
        string.Join("; ", typeof(TrainerOptions).GetProperties().Select(p => $"{p.Name}={Show(p.GetValue(options))}"));

    private static string Show(object? value) => value switch
    {
        string s => s,
        IEnumerable list => $"[{string.Join(", ", list.Cast<object>().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))}]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null",
    };

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

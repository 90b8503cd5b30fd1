using Distill.Configs;
using Distill.Engine;
using Distill.Engine.Comparison;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// The quickstart through the shared comparison pipeline (recipes, <see cref="TeacherStage"/>, <see cref="ComparisonRun"/>)
/// against the quickstart's own training loop as it was before the pipeline existed, kept here line for line.
/// </summary>
public sealed class QuickstartPipelineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-quickstart-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TeacherKeysOfSet_GoToTheStudentsRecipesOnly_SoTheTeachersOwnTrainingAndCacheStayTheSame()
    {
        TinyIdx.Write(_root, 16, 8);
        QuickstartOptions Options(params string[] sets) => new()
        {
            Methods = [new ComparisonMethod("kd", "kd", [])], Sets = ["data.dataset=idx", $"data.root={_root}", .. sets],
            Output = Path.Combine(_root, "out"), RunDirectory = Path.Combine(_root, "out", "quickstart"),
        };

        var plain = Quickstart.Plan(Options());
        var bf16 = Quickstart.Plan(Options("teacher.precision=bf16"));

        Assert.Null(bf16.Teacher.Teacher);
        Assert.Equal(plain.TeacherCheckpoint, bf16.TeacherCheckpoint);
        Assert.All(bf16.Students.SelectMany(s => s.Runs), r => Assert.Equal("bf16", r.Teacher!.Precision));
        Assert.All(plain.Students.SelectMany(s => s.Runs), r => Assert.Equal("fp32", r.Teacher!.Precision));
    }

    [Fact]
    public void LegacySchedule_GivesTheOldQuickstartsNumbersToTheBit_TeacherStudentsAndAParameterisedMethod()
    {
        TinyIdx.Write(_root, 160, 40);
        var options = new QuickstartOptions
        {
            Epochs = 2, TeacherEpochs = 2, Seed = 3, Seeds = 2, LegacySchedule = true,
            Methods = [new ComparisonMethod("kd", "kd", []), new ComparisonMethod("fitnet", "fitnet", [])],
            Sets = ["data.dataset=idx", $"data.root={_root}"],
            Output = Path.Combine(_root, "out"), RunDirectory = Path.Combine(_root, "out", "quickstart"),
        };
        var plan = Quickstart.Plan(options);
        Assert.Equal("epoch", plan.Teacher.Train.StepPer);
        List<EpochResult> newTeacher;
        ComparisonResult students;
        using (var stage = TeacherStage.TrainOrLoad(plan.Teacher, plan.TeacherCheckpoint))
        {
            Assert.False(stage.Cached);
            newTeacher = [.. stage.Series!.Epochs];
            students = ComparisonRun.Execute(plan.Students, teacher: stage.Model);
        }

        var (oldTeacher, oldStudents) = OldQuickstart(_root, imageSize: 12, teacherEpochs: 2, epochs: 2, firstSeed: 3, seeds: 2, ["kd", "fitnet"]);
        AssertSameEpochs(oldTeacher, newTeacher);
        Assert.Equal(["alone", "kd", "fitnet"], students.Rows.Select(r => r.Label));
        Assert.Equal(oldStudents.Count, students.Series.Count);
        for (var i = 0; i < oldStudents.Count; i++)
        {
            AssertSameEpochs(oldStudents[i], students.Series[i].Epochs);
        }

        // The cache: a second quickstart loads the teacher and measures the same top-1.
        using var cached = TeacherStage.TrainOrLoad(Quickstart.Plan(options).Teacher, plan.TeacherCheckpoint);
        Assert.True(cached.Cached);
        Assert.Equal(oldTeacher[^1].TestAccuracy, cached.Row.FinalAccuracies[0]);
    }

    [Fact]
    public void FreshFolder_OfTwoRunsStartedInTheSameSecond_AreTwoFolders()
    {
        var now = new DateTime(2026, 11, 30, 7, 21, 3, DateTimeKind.Utc);
        var first = ComparisonRun.FreshFolder(_root, "quickstart", now);
        Assert.Equal(Path.Combine(_root, "quickstart-20261130-072103"), first);
        Directory.CreateDirectory(first);
        var second = ComparisonRun.FreshFolder(_root, "quickstart", now);
        Assert.Equal(first + "-2", second);
        Directory.CreateDirectory(second);
        Assert.Equal(first + "-3", ComparisonRun.FreshFolder(_root, "quickstart", now));
    }

    [Fact]
    public void DefaultRecipes_StepTheCosinePerIterationToZero_AndTheFlagsOverrideTheirKeys()
    {
        TinyIdx.Write(_root, 20, 10);
        var plan = Quickstart.Plan(new QuickstartOptions
        {
            Fast = true, Seed = 5, Seeds = 2, Teacher = "resnet14", Student = "resnet8", Device = "cpu",
            Methods = [new ComparisonMethod("dkd:warmup=2", "dkd", ["warmup=2"])],
            Sets = ["data.dataset=idx", $"data.root={_root}"], Output = _root, RunDirectory = Path.Combine(_root, "qs"),
        });
        foreach (var run in plan.Students.SelectMany(s => s.Runs).Append(plan.Teacher))
        {
            Assert.Equal(("cosine", "iteration", 0.0, 1), (run.Train.Schedule, run.Train.StepPer, run.Train.EtaMin, run.Train.Epochs));
            Assert.Equal(Quickstart.FastTrainImages, run.Data.TrainSubset);
        }

        Assert.Equal("resnet14", plan.Teacher.Student.Model);
        Assert.Equal(5, plan.Teacher.Train.Seed);
        Assert.Equal(["none", "dkd"], plan.Students.Select(s => s.Runs[0].Method.Name));
        Assert.Equal([5, 6], plan.Students[1].Runs.Select(r => r.Train.Seed));
        Assert.Equal(plan.TeacherCheckpoint, plan.Students[1].Runs[0].Teacher!.Checkpoint);
        Assert.Equal(2, plan.Students[1].Runs[0].Method.Options["warmup"]);
        Assert.Equal(Path.Combine(_root, "qs", "dkd_warmup_2", "seed6"), plan.Students[1].Runs[1].Output);
        Assert.Equal((20, 10), (plan.TrainImages, plan.TestImages));
    }

    private static void AssertSameEpochs(IReadOnlyList<EpochResult> expected, IReadOnlyList<EpochResult> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            // Bit for bit: the same operations in the same order on the same machine.
            Assert.Equal(expected[i].LearningRate, actual[i].LearningRate);
            Assert.Equal(expected[i].LossTerms, actual[i].LossTerms);
            Assert.Equal(expected[i].TrainAccuracy, actual[i].TrainAccuracy);
            Assert.Equal(expected[i].TestAccuracy, actual[i].TestAccuracy);
        }
    }

    /// <summary>
    /// The quickstart's training as src/Distill.Cli/QuickstartCommand.cs did it before the comparison pipeline (its own
    /// loaders, a teacher trained in memory, a Trainer per student with cosine stepped per epoch), on the IDX files of
    /// <paramref name="root"/> instead of the installed Fashion-MNIST.
    /// </summary>
    private static (IReadOnlyList<EpochResult> Teacher, List<IReadOnlyList<EpochResult>> Students) OldQuickstart(string root, int imageSize, int teacherEpochs, int epochs,
        int firstSeed, int seeds, string[] methodNames)
    {
        var train = IdxReader.Load(IdxReader.FindFile(root, "train-images-idx3-ubyte"), IdxReader.FindFile(root, "train-labels-idx1-ubyte"), IdxReader.FashionMnistClasses);
        var test = IdxReader.Load(IdxReader.FindFile(root, "t10k-images-idx3-ubyte"), IdxReader.FindFile(root, "t10k-labels-idx1-ubyte"), IdxReader.FashionMnistClasses);
        var augment = new Compose(new RandomCrop(imageSize, padding: 2), new RandomHorizontalFlip(), Normalize.FashionMnist);
        const int BatchSize = 128;
        var seed = (ulong)firstSeed;
        var trainLoader = new DataLoader(train, BatchSize, shuffle: true, seed: seed, transform: augment);
        var testLoader = new DataLoader(test, 256, transform: Normalize.FashionMnist);
        var options = new ModelOptions(NumClasses: 10, InChannels: 1, ImageSize: imageSize);
        TorchRuntime.ManualSeed(seed);
        using var teacher = ModelRegistry.Create("resnet20", options);
        var teacherResults = Train(teacher, null, null, teacherEpochs, trainLoader, testLoader);
        var labels = Enumerable.Range(0, train.Count).Select(train.LabelOf).ToArray();
        var methods = new List<Func<ClassificationModel, Distiller?>> { _ => new NoDistillation() };
        methods.AddRange(methodNames.Select(name => (Func<ClassificationModel, Distiller?>)(student =>
            MethodBuilder.Create(new MethodConfig { Name = name }, MethodContext.FromModels(student, teacher, options, labels)))));
        var students = new List<IReadOnlyList<EpochResult>>();
        foreach (var method in methods)
        {
            for (var k = 0; k < seeds; k++)
            {
                var s = seed + (ulong)k;
                TorchRuntime.ManualSeed(s);
                using var student = ModelRegistry.Create("resnet8", options);
                using var distiller = method(student);
                var loader = new DataLoader(train, BatchSize, shuffle: true, seed: s, transform: augment);
                students.Add(Train(student, distiller is { NeedsTeacher: true } ? teacher : null, distiller, epochs, loader, testLoader));
            }
        }

        return (teacherResults, students);
    }

    private static IReadOnlyList<EpochResult> Train(ClassificationModel student, ClassificationModel? teacher, Distiller? distiller, int epochs, DataLoader train, DataLoader test)
    {
        var options = new TrainerOptions { Epochs = epochs, LearningRate = 0.05, Schedule = "cosine", Device = train.Device };
        using var trainer = new Trainer(student, teacher, distiller, options);
        return trainer.Fit(train, test);
    }
}

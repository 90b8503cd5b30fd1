using Distill.Configs;
using Distill.Engine.Comparison;
using Distill.Engine.SoftLabels;
using Distill.Testing;
using Xunit;

namespace Distill.Tests;

/// <summary>`quickstart --soft-labels M` on IDX files the test writes: the store is built once beside the teacher's cache, the logit methods train from it, feature methods keep the online teacher, and the rows say which did.</summary>
public sealed class QuickstartSoftLabelTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-qs-soft-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void SoftLabels_BuildsTheStoreOnceBesideTheTeacher_KdTrainsFromIt_FitnetKeepsTheOnlineTeacher_AndTheRowsSaySo()
    {
        TinyIdx.Write(_root, 48, 16);
        var options = new QuickstartOptions
        {
            Epochs = 1, TeacherEpochs = 1, Seed = 2, SoftLabels = 2,
            Methods = [new ComparisonMethod("kd", "kd", []), new ComparisonMethod("fitnet", "fitnet", [])],
            Sets = ["data.dataset=idx", $"data.root={_root}", "data.batch_size=16"],
            Output = Path.Combine(_root, "out"), RunDirectory = Path.Combine(_root, "out", "quickstart"),
        };
        var plan = Quickstart.Plan(options);
        using var stage = TeacherStage.TrainOrLoad(plan.Teacher, plan.TeacherCheckpoint);
        var store = SoftLabelStage.Prepare(plan, stage.Model, options.SoftLabels);
        Assert.False(store.Cached);
        Assert.Equal(SoftLabelStage.StorePath(plan.TeacherCheckpoint, 2), store.Path);
        Assert.True(File.Exists(store.Path));
        Assert.Equal(["kd"], store.FromStore);
        Assert.Equal([null, store.Path, null], store.Students.Select(s => s.Runs[0].Teacher?.SoftLabels));

        var result = ComparisonRun.Execute(store.Students, teacher: stage.Model);
        Assert.True(double.IsFinite(result.Rows[1].FinalAccuracies[0]));
        Assert.Equal(["alone", "kd (soft labels)", "fitnet"], store.Mark(result.Rows).Select(r => r.Label));

        // A second quickstart finds the store up to date; other draws per image are another store, built anew.
        var again = SoftLabelStage.Prepare(Quickstart.Plan(options), stage.Model, options.SoftLabels);
        Assert.True(again.Cached);
        var three = SoftLabelStage.Prepare(plan, stage.Model, 3);
        Assert.False(three.Cached);
        Assert.NotEqual(store.Path, three.Path);

        // A stale store at the path (here: built with other draws, copied over) is rebuilt, never used.
        File.Copy(three.Path, store.Path, overwrite: true);
        var notices = new StringWriter();
        Assert.False(SoftLabelStage.Prepare(plan, stage.Model, options.SoftLabels, notices: notices).Cached);
        Assert.Contains("rebuilding it", notices.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SoftLabels_OnASegmentationQuickstart_IsRefusedBeforeAnyTraining()
    {
        var e = Assert.Throws<ConfigException>(() => Quickstart.Plan(new QuickstartOptions { Task = "segmentation", SoftLabels = 2, Output = _root, RunDirectory = Path.Combine(_root, "qs") }));
        Assert.Contains("--soft-labels: a soft-label store serves classification only", e.Message, StringComparison.Ordinal);
    }
}

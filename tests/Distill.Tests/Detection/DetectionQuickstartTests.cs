using System.Xml.Linq;
using Distill.Configs;
using Distill.Engine;
using Distill.Engine.Comparison;
using Distill.Tasks.Detection;
using Xunit;

namespace Distill.Tests.Detection;

/// <summary>
/// `distill quickstart --task detection` as recipes (the committed det-scenes recipes, the --fast sizes, the default methods
/// with their detection presets) and a detection run's report (per-category AP and example detections).
/// </summary>
public sealed class DetectionQuickstartTests : IDisposable
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _root = Directory.CreateTempSubdirectory("distill-det-qs-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void DetectionQuickstart_PlansTheDetSceneRecipes_WithTheFastSubsets_AndEveryDefaultMethodResolves()
    {
        Assert.Equal("fgd,mgd,cwd,skd_det", Quickstart.DefaultMethods("detection"));
        Assert.Equal("configs/det-scenes/quickstart", Quickstart.RecipeFolderOf("detection"));
        var methods = Quickstart.DefaultMethods("detection").Split(',').Select(m => new ComparisonMethod(m, m, [])).ToArray();
        var plan = Quickstart.Plan(new QuickstartOptions
        {
            Task = "detection",
            Fast = true,
            Seeds = 2,
            Output = _root,
            RunDirectory = Path.Combine(_root, "qs"),
            Methods = methods,
        });
        Assert.Equal(("detection", "detection-scenes", "det_scene_teacher"), (plan.Teacher.Task, plan.Teacher.Data.Dataset, plan.Teacher.Student.Model));
        Assert.Equal((Quickstart.FastTrainDetectionScenes, Quickstart.FastTestDetectionScenes), (plan.TrainImages, plan.TestImages));
        Assert.Equal(["alone", "fgd", "mgd", "cwd", "skd_det"], plan.Students.Select(s => s.Method.Label));
        Assert.All(plan.Students, s => Assert.Equal([0, 1], s.Runs.Select(r => r.Train.Seed)));
        Assert.All(plan.Students.SelectMany(s => s.Runs), r =>
        {
            Assert.Equal(("detection", "det_scene_student", "det_scene_teacher"), (r.Task, r.Student.Model, r.Teacher!.Model));
            Assert.Equal(plan.TeacherCheckpoint, r.Teacher.Checkpoint);
            Assert.Equal(1, r.Train.Epochs);
            // A --fast epoch is ten steps: the recipes' warm-up must end inside it.
            Assert.InRange(r.Train.WarmupIters, 1, (Quickstart.FastTrainDetectionScenes / r.Data.BatchSize) - 1);
        });
        Assert.Equal(1, plan.Teacher.Train.Epochs);
    }

    [Fact]
    public void DetectionQuickstart_FullBudget_TrainsOnTheRecipesSubset_TeacherLongerThanStudents_WithAStepBeforeTheEnd()
    {
        var plan = Quickstart.Plan(new QuickstartOptions { Task = "detection", Output = _root, RunDirectory = Path.Combine(_root, "qs") });
        Assert.Equal(3000, plan.TrainImages);
        var student = plan.Students[0].Runs[0];
        Assert.True(plan.Teacher.Train.Epochs > student.Train.Epochs);
        foreach (var run in new[] { plan.Teacher, student })
        {
            Assert.Equal(("sgd", 0.01, 35.0), (run.Train.Optimizer, run.Train.Lr, run.Train.GradClip));
            Assert.Equal("multistep", run.Train.Schedule);
            Assert.All(run.Train.Milestones, m => Assert.InRange(m, 1, run.Train.Epochs - 1));
        }
    }

    [Fact]
    public void LegacySchedule_WithDetection_IsRefused_NamingTheTask()
    {
        var e = Assert.Throws<ConfigException>(() => Quickstart.Plan(new QuickstartOptions { Task = "detection", LegacySchedule = true, Output = _root }));
        Assert.Contains("no detection recipes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectionRun_ReportShowsPerCategoryAp_AndExampleDetectionsAsSvgOverTheInput()
    {
        var recipe = Recipes.Parse($"""
            task: detection
            data:
              dataset: detection-scenes
              train_subset: 16
              test_subset: 8
              batch_size: 8
            student:
              model: det_scene_student
            train:
              epochs: 1
              lr: 0.01
              grad_clip: 35
              seed: 3
            output: {Path.Combine(_root, "run")}
            """);
        var summary = TrainingRun.Execute(recipe);
        var evaluation = Assert.IsType<Distill.Tasks.TaskEvaluation>(summary.FinalEvaluation);
        Assert.Equal(10, evaluation.Breakdown.Count);
        Assert.Equal(TrainingRun.ExampleCount, summary.DetectionExamples.Count);
        Assert.All(summary.DetectionExamples, e =>
        {
            Assert.Equal((1, 96, 96), (e.Input.Channels, e.Input.Height, e.Input.Width));
            Assert.NotEmpty(e.Truth);
            Assert.Null(e.Teacher);
            Assert.All(e.Student, b => Assert.True(b.Score >= Distill.Engine.Reporting.DetectionExamples.ScoreThreshold));
        });

        var document = XDocument.Parse(File.ReadAllText(Path.Combine(recipe.Output, "report.html")).Replace("<!DOCTYPE html>", string.Empty, StringComparison.Ordinal));
        var headings = document.Descendants(Xhtml + "h2").Select(h => h.Value).ToArray();
        Assert.Contains("Per-class AP", headings);
        Assert.Contains("Example detections", headings);
        Assert.Contains(document.Descendants(Xhtml + "th"), th => th.Value == "mAP");
        var pictures = document.Descendants(Svg + "svg").Where(s => s.Element(Svg + "image") is not null).ToArray();
        Assert.Equal(2 * TrainingRun.ExampleCount, pictures.Length);
        // The ground-truth picture of each example has one rectangle per box.
        Assert.Equal(summary.DetectionExamples.Sum(e => e.Truth.Count), pictures.Where((_, i) => i % 2 == 0).Sum(p => p.Elements(Svg + "rect").Count()));
    }
}

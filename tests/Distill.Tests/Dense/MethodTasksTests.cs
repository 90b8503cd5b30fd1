using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Xunit;

namespace Distill.Tests.Dense;

/// <summary>Task tags: which methods apply to segmentation, and a recipe naming a method for a task it does not serve.</summary>
public sealed class MethodTasksTests
{
    private const string Recipe = """
        data:
          dataset: fashion-mnist
        student:
          model: resnet8
        teacher:
          model: resnet20
          checkpoint: t.safetensors
        method:
          name: dkd
        task: segmentation
        output: runs/x
        """;

    [Fact]
    public void EachMethod_AppliesToTheTasksOfItsOfficialCode_NoneToEvery()
    {
        string[] dense = ["none", "kd", "tfd", "tfd+", "cwd", "mgd", "skd"];
        string[] segmentationOnly = ["skd"];
        string[] detection = ["none", "cwd", "mgd", "fgd", "skd_det", "matching"];
        string[] detectionOnly = ["fgd", "skd_det"];
        foreach (var name in MethodFactory.Names)
        {
            var tasks = MethodFactory.Find(name)!.AppliesTo;
            Assert.Equal(!segmentationOnly.Contains(name) && !detectionOnly.Contains(name), tasks.Contains(MethodDescriptor.Classification));
            Assert.Equal(dense.Contains(name), tasks.Contains(MethodDescriptor.Segmentation));
            Assert.Equal(detection.Contains(name), tasks.Contains(MethodDescriptor.Detection));
        }
    }

    [Fact]
    public void ARecipe_WithAClassificationOnlyMethodOnSegmentation_IsRefusedAtTheMethodName()
    {
        var e = Assert.Throws<ConfigException>(() => Recipes.Parse(Recipe, "seg.yaml"));
        Assert.Equal("seg.yaml:9: method.name: 'dkd' applies to classification, not to task 'segmentation' (`distill methods` lists each method's tasks)", e.Message);
    }

    [Fact]
    public void ARecipe_WithADenseMethodOnSegmentation_Loads()
    {
        Assert.Equal("cwd", Recipes.Parse(Recipe.Replace("name: dkd", "name: cwd", StringComparison.Ordinal), "seg.yaml").Method.Name);
    }
}

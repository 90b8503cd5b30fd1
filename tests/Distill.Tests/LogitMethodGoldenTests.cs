using System.Text.Json;
using Distill.Methods;
using Distill.Tasks;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using Xunit.Sdk;

namespace Distill.Tests;

/// <summary>KD, KD+LS, DKD and DKD+LS against our PyTorch implementations (eng/golden/logit_methods.py): every term and the student-logit gradient, in float64.</summary>
public sealed class LogitMethodGoldenTests
{
    private static readonly JsonFixture Golden = new("logit_methods.json");

    private static readonly Dictionary<string, Func<Distiller>> Methods = new()
    {
        ["kd"] = () => new KnowledgeDistillation(),
        ["kd_ls"] = () => KnowledgeDistillation.WithLogitStandardization(),
        ["dkd"] = () => new DecoupledKnowledgeDistillation(),
        ["dkd_warmup_epoch5"] = () => new DecoupledKnowledgeDistillation(),
        ["dkd_ls"] = () => new DecoupledKnowledgeDistillation(new() { Alpha = 9, Beta = 72, Temperature = 2, LogitStandardization = true }),
    };

    public static TheoryData<string> Cases => Golden.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitMethod_TermsAndGradient_MatchThePyTorchReference(string name)
    {
        var golden = Golden.Root.GetProperty(name);
        var method = name.Split('.')[0];
        using var scope = DisposeScope.Enter();
        var student = GoldenTensor.Parse(golden.GetProperty("student")).ToTensor().RequireGrad();
        var teacher = GoldenTensor.Parse(golden.GetProperty("teacher")).ToTensor();
        var labels = GoldenTensor.Parse(golden.GetProperty("labels")).ToTensor();
        using var distiller = Methods[method]();
        var epoch = method.EndsWith("epoch5", StringComparison.Ordinal) ? 5 : 20;
        var terms = ClassificationTask.Default.StepLoss(distiller, new DistillationInputs(student, teacher, labels, labels, null, null, epoch));
        var expected = golden.GetProperty("terms").EnumerateObject().ToArray();
        Assert.Equal(expected.Select(e => e.Name), terms.Terms.Select(t => t.Name));
        foreach (var e in expected)
        {
            var actual = terms[e.Name].Item<double>();
            // Both sides compute in float64 (the inputs are float64): torch's float64 tolerance.
            if (!GoldenTolerance.Float64.Accepts(actual, e.Value.GetDouble(), 0))
            {
                throw new XunitException($"{name} term {e.Name}: {actual:R}, reference {e.Value.GetDouble():R} (tolerance {GoldenTolerance.Float64.Describe(0)})");
            }
        }

        terms.Total().Backward();
        GoldenTensor.Parse(golden.GetProperty("grad_student")).AssertMatches(student.Grad!, $"{name} gradient");
    }
}

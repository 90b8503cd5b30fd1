using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Distill.NN.Checkpoints;
using Distill.NN.Data;
using Distill.Testing;
using Distill.Torch;
using Xunit;
using F = Distill.Torch.Functional;
using O = Distill.Methods.MethodOption;

namespace Distill.Tests;

/// <summary>
/// A method's own optimizer (<see cref="IHasOwnOptimizer"/>), with a toy adversarial method: a tiny discriminator on
/// softmax(logits) tells the student's from the one-hot labels (teacher-free, so a run needs no teacher checkpoint);
/// the student is pushed by −mean D(S), the discriminator trains on the hinge loss with its own Adam.
/// </summary>
public sealed class OwnOptimizerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("distill-own-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void OwnParameters_AreInNoGroupOfTheMainOptimizer_AndChangeOnlyThroughTheOwnOptimizer()
    {
        using var scope = DisposeScope.Enter();
        var data = TrainerTests.StripesDataset(64);
        TorchRuntime.ManualSeed(3);
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));

        // Groups for the method too (no decay on biases, a method rate multiplier): the own parameters stay out of all.
        var options = new TrainerOptions { Epochs = 1, LearningRate = 0.05, NoWeightDecayOn = ["bias"], MethodLrMult = 2 };
        foreach (var ownRate in new[] { 0.0, 1e-2 })
        {
            using var method = new ToyAdversarial(2, ownRate);
            var before = method.Discriminator.Parameters().Select(p => p.ToBytes()).ToArray();
            using var trainer = new Trainer(student, null, method, options);
            var main = trainer.Optimizer.Groups.SelectMany(g => g.Parameters).ToHashSet(ReferenceEqualityComparer.Instance);
            Assert.DoesNotContain(method.OwnParameters, p => main.Contains(p));
            Assert.Contains(method.Projection, p => main.Contains(p));
            Assert.True(method.OwnParameters.SequenceEqual(trainer.MethodOptimizer!.Groups.Single().Parameters, ReferenceEqualityComparer.Instance));

            var result = trainer.Fit(new DataLoader(data, 16, shuffle: true, seed: 1), new DataLoader(data, 32)).Single();

            // The student's term reaches the discriminator's parameters with gradients every step; with an own rate of 0
            // they still do not move, so nothing but the own optimizer steps them.
            var moved = method.Discriminator.Parameters().Zip(before, (p, b) => !p.ToBytes().SequenceEqual(b)).ToArray();
            // (With a positive rate the weights move; the score's bias may not: the hinge's two means give it opposite gradients.)
            Assert.Equal(ownRate > 0, moved.Any(m => m));
            Assert.Equal(["ce", "adv", "d_hinge"], result.LossTerms.Keys);

            // The discriminator's term is logged, but the student's loss (the report's chart) is what the student minimised.
            Assert.Equal(["d_hinge"], result.OwnLossTerms);
            Assert.Equal(result.LossTerms["ce"] + result.LossTerms["adv"], result.StudentLoss, 12);
        }
    }

    [Fact]
    public void Step_RunsTheStudentStepFirst_ThenTheOwnLossOnDetachedInputs_ThenTheOwnStep()
    {
        using var scope = DisposeScope.Enter();
        var data = TrainerTests.StripesDataset(32);
        TorchRuntime.ManualSeed(4);
        using var student = ModelRegistry.Create("resnet8", new ModelOptions(2, 1, 16));
        using var method = new ToyAdversarial(2, 1e-2) { Student = student };
        using var trainer = new Trainer(student, null, method, new TrainerOptions { Epochs = 1, LearningRate = 0.05 });
        trainer.Fit(new DataLoader(data, 16, shuffle: true, seed: 1), new DataLoader(data, 32));

        // Two steps, each: the student's loss, then the own loss. At the own loss the student has already stepped, the
        // gradients the student's term left on the discriminator are cleared and the student's logits are detached;
        // at the next step's student loss the discriminator has stepped.
        Assert.Equal(
        [
            "loss",
            "own: student stepped, own grads cleared, student detached",
            "loss: discriminator stepped",
            "own: student stepped, own grads cleared, student detached",
        ], method.Events);
    }

    [Fact]
    public void Run_WithAnOwnOptimizer_CheckpointsItsState_AndResumesBitExact()
    {
        using var registration = MethodFactory.Register(ToyAdversarial.Descriptor);
        TinyIdx.Write(_root, 48, 16);
        var recipe = TinyIdx.Recipe(_root, $"""
            method:
              name: toy_adversarial
              own_lr: 0.01
            train:
              epochs: 3
              lr: 0.05
              schedule: poly
              step_per: iteration
              seed: 2
            output: {Path.Combine(_root, "straight")}
            """);
        var straight = Recipes.Parse(recipe);
        var summary = TrainingRun.Execute(straight);
        Assert.Equal(["ce", "adv", "d_hinge"], summary.Epochs[0].LossTerms.Keys);

        var interrupted = straight with { Output = Path.Combine(_root, "interrupted") };
        Assert.Throws<OperationCanceledException>(() => TrainingRun.Execute(interrupted, onEpoch: e =>
        {
            if (e.Epoch == 2)
            {
                throw new OperationCanceledException("killed after epoch 2");
            }
        }));
        TrainingRun.Execute(interrupted, resume: true);
        using var scope = DisposeScope.Enter();
        using var a = SafeTensors.Load(Path.Combine(straight.Output, "last.safetensors"));
        using var b = SafeTensors.Load(Path.Combine(interrupted.Output, "last.safetensors"));

        // Adam's state of the discriminator is in the file (its followed poly rate too), and every tensor resumes bit-exact.
        Assert.Contains(a.Tensors.Keys, k => k.StartsWith("method_optimizer.", StringComparison.Ordinal) && k.EndsWith(".exp_avg", StringComparison.Ordinal));
        Assert.Contains("distiller.discriminator.hidden.weight", a.Tensors.Keys);
        Assert.Equal(a.Metadata["distill.method_learning_rates"], b.Metadata["distill.method_learning_rates"]);
        Assert.Equal("9", a.Metadata["distill.method_scheduler_epoch"]);
        Assert.Equal(a.Tensors.Keys.Order(), b.Tensors.Keys.Order());
        foreach (var (key, value) in a.Tensors.Where(t => !t.Key.StartsWith("rng", StringComparison.Ordinal)))
        {
            Assert.True(value.ToBytes().SequenceEqual(b.Tensors[key].ToBytes()), $"{key} differs after resume");
        }
    }

    [Fact]
    public void Check_ReportsTheOwnLossTerm_BesideTheTotal_WithItsOwnGradients()
    {
        using var registration = MethodFactory.Register(ToyAdversarial.Descriptor);
        using var scope = DisposeScope.Enter();
        var inputsPath = Path.Combine(_root, "in.safetensors");
        var outputPath = Path.Combine(_root, "out.safetensors");
        TorchRuntime.ManualSeed(6);
        SafeTensors.Save(inputsPath, new Dictionary<string, Tensor>
        {
            ["student.logits"] = Tensor.Randn([4, 3]),
            ["labels"] = Tensor.From([0L, 2, 1, 2]),
        });

        var values = Distill.Parity.MethodCheck.Run(Distill.Parity.MethodCheck.Options("toy_adversarial", []), inputsPath, outputPath);

        using var output = SafeTensors.Load(outputPath);
        Assert.Equal(values["ce"] + values["adv"], values["total"], 6);
        Assert.True(values["d_hinge"] > 0);
        Assert.Contains("loss.d_hinge", output.Tensors.Keys);
        Assert.Contains("grad.own.discriminator.hidden.weight", output.Tensors.Keys);
        Assert.Contains("grad.method.discriminator.hidden.weight", output.Tensors.Keys);
        Assert.False(output.Tensors["grad.own.discriminator.score.weight"].ToBytes().SequenceEqual(output.Tensors["grad.method.discriminator.score.weight"].ToBytes()));
        Assert.Contains("own optimizer (adam, lr 0.001;", Distill.Parity.MethodCheck.Describe(Distill.Parity.MethodCheck.Options("toy_adversarial", []), inputsPath), StringComparison.Ordinal);
    }

    /// <summary>
    /// The toy: D = <see cref="LogitDiscriminator"/> on softmax(logits); the student's term "adv" = 0.1 (−mean D(S)); the
    /// own term "d_hinge" = hinge(D(one-hot labels), D(S detached)), Adam (0.9, 0.99). A 1-parameter "projection" (a
    /// method parameter of the main optimizer) scales the student's term.
    /// </summary>
    private sealed class ToyAdversarial : Distiller, IHasOwnOptimizer
    {
        private readonly Tensor _projection;
        private byte[][]? _studentAtLoss;
        private byte[][]? _discriminatorAtLoss;

        public ToyAdversarial(long classes, double ownLr)
        {
            Discriminator = RegisterModule("discriminator", new LogitDiscriminator(classes, hidden: 8));
            _projection = RegisterParameter("projection", Tensor.Ones([1]))!;
            OwnOptimizer = new MethodOptimizerSettings { LearningRate = ownLr, Betas = (0.9, 0.99) };
        }

        public static MethodDescriptor Descriptor { get; } = new("toy_adversarial", "Toy adversarial method (test only)", "-",
            [O.Number("own_lr", 1e-3, "the discriminator's Adam rate")],
            (s, c) => new ToyAdversarial(c.StudentShape("logits")[1], s.Number("own_lr"))) { NeedsTeacher = false };

        public LogitDiscriminator Discriminator { get; }

        public IReadOnlyList<Tensor> Projection => [_projection];

        public ClassificationModel? Student { get; init; }

        public List<string> Events { get; } = [];

        public override string Name => "toy_adversarial";

        public override bool NeedsTeacher => false;

        public IReadOnlyList<Tensor> OwnParameters => [.. Discriminator.Parameters()];

        public MethodOptimizerSettings OwnOptimizer { get; }

        public override LossTerms ComputeLoss(DistillationInputs inputs)
        {
            var discriminator = Snapshot(Discriminator);
            Events.Add(_discriminatorAtLoss is null ? "loss"
                : discriminator.Zip(_discriminatorAtLoss).Any(p => !p.First.SequenceEqual(p.Second)) ? "loss: discriminator stepped" : "loss: discriminator unchanged");
            _discriminatorAtLoss = discriminator;
            _studentAtLoss = Student is null ? null : Snapshot(Student);
            var fake = Discriminator.Forward(F.Softmax(inputs.StudentLogits, 1));
            return new LossTerms().Add("adv", AdversarialLoss.Generator(fake) * 0.1 * _projection.Sum());
        }

        public LossTerms ComputeOwnLoss(DistillationInputs inputs)
        {
            if (Student is not null)
            {
                var stepped = Snapshot(Student).Zip(_studentAtLoss!).Any(p => !p.First.SequenceEqual(p.Second));
                var cleared = OwnParameters.All(p => p.Grad is null);
                Events.Add($"own: student {(stepped ? "stepped" : "not stepped")}, own grads {(cleared ? "cleared" : "kept")}, student {(inputs.StudentLogits.RequiresGrad ? "attached" : "detached")}");
            }

            var real = Discriminator.Forward(F.OneHot(inputs.Labels, inputs.StudentLogits.Size(1)).To(DType.Float32));
            var fake = Discriminator.Forward(F.Softmax(inputs.StudentLogits, 1));
            return new LossTerms().Add("d_hinge", AdversarialLoss.HingeDiscriminator(real, fake));
        }

        private static byte[][] Snapshot(Distill.NN.Module module)
        {
            using var scope = DisposeScope.Enter();
            return module.Parameters().Select(p => p.ToBytes()).ToArray();
        }
    }
}

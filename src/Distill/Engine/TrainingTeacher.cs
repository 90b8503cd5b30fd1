using Distill.Configs;
using Distill.Models;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// teacher.precision: the teacher a run trains with. fp32 is the loaded teacher itself; bf16 is a bfloat16 copy of it,
/// made once per run, so a teacher shared by a comparison's runs stays float32 for the others (and for the report's
/// example predictions). The trainer feeds a bfloat16 teacher bfloat16 images and casts its logits and tapped maps
/// back to float32 (<see cref="Trainer"/>). Batch norm runs in bfloat16 too (libtorch 1.13 has CPU kernels for it);
/// the teacher is in eval mode, so its statistics are constants.
/// </summary>
internal static class TeacherPrecision
{
    /// <summary>The values teacher.precision takes.</summary>
    public const string Float32 = "fp32";

    /// <summary>The bfloat16 teacher.</summary>
    public const string BFloat16 = "bf16";

    /// <summary>
    /// <paramref name="module"/>'s output on <paramref name="input"/> in the input's dtype: the module itself when its
    /// parameters are in that dtype (a float32 teacher: nothing is cast), else on the input cast to
    /// <paramref name="dtype"/>, its output cast back.
    /// </summary>
    /// <param name="module">A teacher or a part of one (its head).</param>
    /// <param name="dtype">The dtype of the module's parameters.</param>
    /// <param name="input">Images (or features, for a head) in the student's dtype.</param>
    public static Tensor Forward(Distill.NN.Module<Tensor, Tensor> module, DType dtype, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        return dtype == input.DType ? module.Forward(input) : module.Forward(input.To(dtype)).To(input.DType);
    }

    /// <summary>
    /// The teacher to train with: <paramref name="teacher"/> for fp32, else a new copy of it in bfloat16 on
    /// <paramref name="device"/> that the caller disposes. The copy is built without drawing from the seeded generator
    /// (its state is restored), so the run's later draws are those of an fp32 run, and dry-run in float32 first, so its
    /// taps check their maps' shapes as the original's do.
    /// </summary>
    /// <param name="task">The recipe's task (builds the copy).</param>
    /// <param name="config">The recipe's teacher section.</param>
    /// <param name="teacher">The loaded float32 teacher (on any device).</param>
    /// <param name="options">The data's model options.</param>
    /// <param name="device">Where the copy lives.</param>
    /// <returns>The teacher, or its copy (a model the caller owns) when <paramref name="teacher"/> is not returned.</returns>
    public static TappedModel<Tensor> ForTraining(ITrainingTask task, ModelConfig config, TappedModel<Tensor> teacher, ModelOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(options);
        if (config.Precision != BFloat16)
        {
            return teacher;
        }

        TappedModel<Tensor> copy;
        using (DisposeScope.Enter())
        {
            var state = TorchRuntime.GetRngState();
            copy = TrainingRun.NewModel(task, "teacher.model", config.Model, options);
            TorchRuntime.SetRngState(state);
        }

        try
        {
            using (DisposeScope.Enter())
            {
                copy.LoadStateDict(teacher.StateDict());
            }

            copy.DryRun(options);
            copy.To(device);
            copy.To(DType.BFloat16);
            Probe(copy, options, device);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One bfloat16 forward on a blank image, so a libtorch or processor without bfloat16 kernels for one of the teacher's
    /// layers (oneDNN's bfloat16 convolution needs AVX-512) stops the run before training, naming the key.
    /// </summary>
    private static void Probe(TappedModel<Tensor> copy, ModelOptions options, Device device)
    {
        // In eval mode: a training-mode forward would move batch norm's running statistics towards the blank image's.
        var training = copy.IsTraining;
        copy.Eval();
        try
        {
            using var scope = DisposeScope.Enter();
            using var noGrad = Autograd.NoGrad();
            copy.Forward(Tensor.Zeros([1, options.InChannels, options.Height, options.Width], DType.BFloat16, device));
        }
        catch (TorchException e)
        {
            throw new ConfigException($"teacher.precision: bf16: this libtorch cannot run the teacher ({copy.GetType().Name}) in bfloat16 on this processor ({FirstLine(e.Message)}); use fp32");
        }
        finally
        {
            copy.Train(training);
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}

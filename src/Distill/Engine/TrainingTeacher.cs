using Distill.Configs;
using Distill.Models;
using Distill.NN;
using Distill.Tasks;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// The teacher a run trains with (teacher.precision, teacher.fold_bn): the loaded teacher itself, or a copy of it made
/// once per run, so a teacher shared by a comparison's runs stays as loaded for the others (and for the report's
/// example predictions). The copy has its batch norms folded into the convolutions before them (checked against the
/// teacher on a random batch first) and, for bf16, is cast to bfloat16: the trainer feeds it bfloat16 images and casts
/// its logits and tapped maps back to float32 (<see cref="Trainer"/>). The teacher is in eval mode, so its batch norms
/// are constant affine maps.
/// </summary>
internal static class TrainingTeacher
{
    /// <summary>The values teacher.precision takes.</summary>
    public const string Float32 = "fp32";

    /// <summary>The bfloat16 teacher.</summary>
    public const string BFloat16 = "bf16";

    /// <summary>
    /// <paramref name="module"/>'s output on <paramref name="input"/> in the input's dtype: the module itself when its
    /// parameters are in that dtype (a float32 teacher: nothing is cast), else on the input cast to
    /// <paramref name="dtype"/>, its output cast back; the input laid out in <paramref name="format"/> first.
    /// </summary>
    /// <param name="module">A teacher or a part of one (its head).</param>
    /// <param name="dtype">The dtype of the module's parameters.</param>
    /// <param name="input">Images (or features, for a head) in the student's dtype.</param>
    /// <param name="format">The memory format the module takes its input in (<see cref="ForTraining"/> chooses it).</param>
    public static Tensor Forward(Distill.NN.Module<Tensor, Tensor> module, DType dtype, Tensor input, MemoryFormat format = MemoryFormat.Contiguous)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        var x = format == MemoryFormat.Contiguous ? input : input.Contiguous(format);
        return dtype == input.DType ? module.Forward(x) : module.Forward(x.To(dtype)).To(input.DType);
    }

    /// <summary>
    /// The teacher to train with and the memory format it takes its images in. <paramref name="teacher"/> itself when
    /// nothing applies, else a new copy of it on <paramref name="device"/> that the caller disposes: batch norms folded
    /// (teacher.fold_bn, the convolutions whose own output a tap reads left alone), then cast to bfloat16
    /// (teacher.precision: bf16). A float32 teacher on the CPU takes channels-last images (teacher.channels_last): oneDNN's
    /// convolutions then skip reordering every activation to their blocked layout and back. The copy is built without
    /// drawing from the seeded generator (its state is restored), so the run's later draws are those of a run without it,
    /// and dry-run in float32 first, so its taps check their maps' shapes as the original's do. Each choice is checked
    /// against the teacher as loaded on one random image: a folded copy whose outputs differ (a convolution's output read
    /// by something other than its batch norm) is not used and <paramref name="notices"/> says why; channels-last images
    /// that fail or change an output are not used.
    /// </summary>
    /// <param name="task">The recipe's task (builds the copy).</param>
    /// <param name="config">The recipe's teacher section.</param>
    /// <param name="teacher">The loaded float32 teacher, on <paramref name="device"/>.</param>
    /// <param name="options">The data's model options.</param>
    /// <param name="device">Where the copy lives.</param>
    /// <param name="taps">The tap names or module paths the method reads from the teacher.</param>
    /// <param name="notices">Where a refused fold is announced.</param>
    /// <param name="inputFormat">The memory format to give the teacher's input in (<see cref="Forward"/>).</param>
    /// <returns>The teacher, or its copy (a model the caller owns) when <paramref name="teacher"/> is not returned.</returns>
    public static TappedModel<Tensor> ForTraining(ITrainingTask task, ModelConfig config, TappedModel<Tensor> teacher, ModelOptions options, Device device,
        IReadOnlyList<string> taps, TextWriter notices, out MemoryFormat inputFormat)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(taps);
        ArgumentNullException.ThrowIfNull(notices);
        inputFormat = MemoryFormat.Contiguous;
        var bf16 = config.Precision == BFloat16;
        var fold = config.FoldBn && teacher.NamedModules().Any(m => m.Module is BatchNorm2d);
        var channelsLast = config.ChannelsLast && !bf16 && device.Type == DeviceType.Cpu;
        if (!bf16 && !fold && !channelsLast)
        {
            return teacher;
        }

        var prepared = teacher;
        try
        {
            if (fold || channelsLast)
            {
                using var scope = DisposeScope.Enter();
                using var noGrad = Autograd.NoGrad();
                var input = CheckImage(teacher, options, device);
                using var expected = Evaluating(teacher, () => ModuleOutputs(teacher, input));
                var folded = new HashSet<string>(StringComparer.Ordinal);
                if (fold)
                {
                    var copy = NewCopy(task, config, teacher, options, device);
                    IReadOnlyList<(string Conv, string BatchNorm)> pairs;
                    try
                    {
                        var keep = taps.Select(teacher.TapPath).ToHashSet(StringComparer.Ordinal);
                        pairs = Evaluating(copy, () => BatchNormFolding.FindPairs(copy, () => copy.Forward(input), keep));
                        BatchNormFolding.Fold(copy, pairs);
                    }
                    catch
                    {
                        copy.Dispose();
                        throw;
                    }

                    folded.UnionWith(pairs.Select(p => p.Conv));
                    var refusal = "no batch norm directly follows a convolution";
                    if (pairs.Count > 0 && Agrees(copy, input, expected, folded, out refusal))
                    {
                        prepared = copy;
                    }
                    else
                    {
                        if (pairs.Count > 0)
                        {
                            notices.WriteLine($"teacher.fold_bn: the teacher runs unfolded: {refusal} once {pairs.Count} batch norms are folded");
                        }

                        copy.Dispose();
                        folded.Clear();
                    }
                }

                if (channelsLast && input.Dim == 4 && Agrees(prepared, input.Contiguous(MemoryFormat.ChannelsLast), expected, folded, out _))
                {
                    inputFormat = MemoryFormat.ChannelsLast;
                }
            }

            if (bf16)
            {
                if (ReferenceEquals(prepared, teacher))
                {
                    prepared = NewCopy(task, config, teacher, options, device);
                }

                prepared.To(DType.BFloat16);
                Probe(prepared, options, device);
            }

            return prepared;
        }
        catch
        {
            if (!ReferenceEquals(prepared, teacher))
            {
                prepared.Dispose();
            }

            throw;
        }
    }

    /// <summary>The largest side of the checks' image for a model that takes any size (<see cref="CheckImage"/>).</summary>
    internal const int CheckSide = 128;

    /// <summary>
    /// One random image (drawn without moving the seeded generator) for the checks, which keep a copy of every layer's
    /// output: of the data's size, each side cut to <see cref="CheckSide"/> for a model that takes any size, so a
    /// segmentation teacher on large crops does not hold gigabytes of maps for the check.
    /// </summary>
    private static Tensor CheckImage(TappedModel<Tensor> teacher, ModelOptions options, Device device)
    {
        var (height, width) = teacher.InputSizeVaries ? (Math.Min(options.Height, CheckSide), Math.Min(options.Width, CheckSide)) : (options.Height, options.Width);
        var state = TorchRuntime.GetRngState();
        try
        {
            return Tensor.Randn([1, options.InChannels, height, width]).To(device);
        }
        finally
        {
            TorchRuntime.SetRngState(state);
        }
    }

    /// <summary>
    /// Whether <paramref name="candidate"/> on <paramref name="input"/> (in eval mode) gives what the teacher gave:
    /// every module output recorded in <paramref name="expected"/>, but those of <paramref name="skip"/> (folded
    /// convolutions, whose own output changes meaning), within 1e-3 of its largest magnitude. Folding and another
    /// memory layout change only rounding (a few float32 ulps per layer), far inside that; a convolution whose raw output
    /// fed anything besides its batch norm changes that consumer's output by about its own size. An op that refuses the
    /// input's layout is a disagreement too.
    /// </summary>
    internal static bool Agrees(TappedModel<Tensor> candidate, Tensor input, ModuleOutputs expected, IReadOnlySet<string> skip, out string refusal)
    {
        ModuleOutputs actual;
        try
        {
            actual = Evaluating(candidate, () => ModuleOutputs(candidate, input));
        }
        catch (TorchException e)
        {
            refusal = e.Message.Split('\n', 2)[0];
            return false;
        }

        using (actual)
        {
            foreach (var (path, want) in expected)
            {
                if (skip.Contains(path))
                {
                    continue;
                }

                if (!actual.TryGetValue(path, out var got) || got.Count != want.Count)
                {
                    refusal = $"module '{path}' ran a different number of times";
                    return false;
                }

                for (var i = 0; i < want.Count; i++)
                {
                    var scale = want[i].Abs().Max().Item<float>();
                    var difference = (got[i] - want[i]).Abs().Max().Item<float>();
                    if (!(difference <= (1e-3 * scale) + 1e-6))
                    {
                        refusal = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"'{(path.Length == 0 ? "output" : path)}' differs by {difference:G3} (largest value {scale:G3})");
                        return false;
                    }
                }
            }
        }

        refusal = string.Empty;
        return true;
    }

    /// <summary>Runs <paramref name="action"/> with <paramref name="model"/> in eval mode, restoring its mode after.</summary>
    private static T Evaluating<T>(TappedModel<Tensor> model, Func<T> action)
    {
        var training = model.IsTraining;
        model.Eval();
        try
        {
            return action();
        }
        finally
        {
            model.Train(training);
        }
    }

    /// <summary>
    /// Every float32 tensor output of <paramref name="model"/>'s modules on <paramref name="input"/>, by path: copies
    /// taken as each module returns (a module's forward frees what it does not return, and a later in-place op may change
    /// what it does), which the caller disposes.
    /// </summary>
    internal static ModuleOutputs ModuleOutputs(TappedModel<Tensor> model, Tensor input)
    {
        var outputs = new ModuleOutputs();
        var hooks = new List<IDisposable>();
        try
        {
            foreach (var (path, module) in model.NamedModules())
            {
                hooks.Add(module.RegisterForwardHook((_, _, output) =>
                {
                    if (output is Tensor { DType: DType.Float32 } t)
                    {
                        outputs.Add(path, t.Clone().DetachFromScope());
                    }
                }));
            }

            model.Forward(input);
            return outputs;
        }
        catch
        {
            outputs.Dispose();
            throw;
        }
        finally
        {
            foreach (var hook in hooks)
            {
                hook.Dispose();
            }
        }
    }

    private static TappedModel<Tensor> NewCopy(ITrainingTask task, ModelConfig config, TappedModel<Tensor> teacher, ModelOptions options, Device device)
    {
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
            copy.Eval();
            copy.Freeze();
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

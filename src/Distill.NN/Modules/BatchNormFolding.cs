using Distill.Torch;

namespace Distill.NN;

/// <summary>
/// Folds eval-mode batch norms into the convolutions that feed them, for a model that only infers (a frozen teacher):
/// BN(conv(x)) = gamma * (conv(x) - mean) / sqrt(var + eps) + beta is one convolution with its weight scaled by
/// s = gamma / sqrt(var + eps) per output channel and bias (b - mean) * s + beta, as torch.nn.utils.fuse_conv_bn_eval
/// computes it (here in float64, then rounded once). The folded batch norm passes its input through, so hooks and taps
/// on it still see its output; the convolution's own output changes meaning, so a convolution whose output is read
/// (a tap by module path) must not be folded.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// The (convolution, batch norm) pairs of <paramref name="root"/> found by running <paramref name="forward"/> once: a
    /// <see cref="BatchNorm2d"/> with running statistics whose every call took the output of the same
    /// <see cref="Conv2d"/> (the same tensor object, unchanged in between), that convolution's every output going to it.
    /// Module paths are relative to <paramref name="root"/>; a convolution in <paramref name="keep"/> is left out. What
    /// else reads a convolution's output cannot be seen from hooks: check the folded model against the original
    /// (<see cref="Fold"/>'s callers do).
    /// </summary>
    /// <param name="root">The model (any mode; the forward should run in eval mode under no-grad).</param>
    /// <param name="forward">Runs the model once.</param>
    /// <param name="keep">Module paths of convolutions whose own output is read elsewhere.</param>
    public static IReadOnlyList<(string Conv, string BatchNorm)> FindPairs(Module root, Action forward, IReadOnlySet<string> keep)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(keep);
        var producers = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        var convCalls = new Dictionary<string, int>(StringComparer.Ordinal);
        var bnCalls = new Dictionary<string, int>(StringComparer.Ordinal);
        var fedBy = new Dictionary<string, string?>(StringComparer.Ordinal);
        var hooks = new List<IDisposable>();
        try
        {
            foreach (var (path, module) in root.NamedModules())
            {
                if (module is Conv2d)
                {
                    hooks.Add(module.RegisterForwardHook((_, _, output) =>
                    {
                        convCalls[path] = convCalls.GetValueOrDefault(path) + 1;
                        if (output is Tensor t)
                        {
                            producers[t] = path;
                        }
                    }));
                }
                else if (module is BatchNorm2d { RunningMean: not null, RunningVar: not null, FoldedInto: null })
                {
                    hooks.Add(module.RegisterForwardHook((_, input, _) =>
                    {
                        bnCalls[path] = bnCalls.GetValueOrDefault(path) + 1;
                        var conv = input is Tensor t ? producers.GetValueOrDefault(t) : null;
                        // A batch norm fed by different producers over its calls (or by something else once) is not folded.
                        fedBy[path] = fedBy.TryGetValue(path, out var earlier) && earlier != conv ? null : conv;
                    }));
                }
            }

            forward();
        }
        finally
        {
            foreach (var hook in hooks)
            {
                hook.Dispose();
            }
        }

        var modules = root.NamedModules().ToDictionary(p => p.Path, p => p.Module, StringComparer.Ordinal);
        var pairs = new List<(string Conv, string BatchNorm)>();
        foreach (var (bn, conv) in fedBy)
        {
            if (conv is null || keep.Contains(conv) || convCalls[conv] != bnCalls[bn] || fedBy.Count(f => f.Value == conv) != 1)
            {
                continue;
            }

            if (((Conv2d)modules[conv]).OutChannels == ((BatchNorm2d)modules[bn]).NumFeatures)
            {
                pairs.Add((conv, bn));
            }
        }

        return pairs;
    }

    /// <summary>
    /// Folds each pair's batch norm into its convolution (<see cref="FindPairs"/>) in place: <paramref name="root"/>
    /// becomes an inference-only model (a folded batch norm refuses training mode) and its state dict gains a bias for
    /// each convolution that had none. Fold a copy when the original must stay as it was.
    /// </summary>
    /// <returns>How many batch norms were folded.</returns>
    public static int Fold(Module root, IReadOnlyList<(string Conv, string BatchNorm)> pairs)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(pairs);
        var modules = root.NamedModules().ToDictionary(p => p.Path, p => p.Module, StringComparer.Ordinal);
        foreach (var (convPath, bnPath) in pairs)
        {
            var conv = modules.GetValueOrDefault(convPath) as Conv2d ?? throw new ArgumentException($"'{convPath}' is not a Conv2d of {root.GetType().Name}");
            var bn = modules.GetValueOrDefault(bnPath) as BatchNorm2d ?? throw new ArgumentException($"'{bnPath}' is not a BatchNorm2d of {root.GetType().Name}");
            if (bn.RunningMean is null || bn.RunningVar is null || bn.FoldedInto is not null || bn.NumFeatures != conv.OutChannels)
            {
                throw new ArgumentException($"'{bnPath}' cannot be folded into '{convPath}': it needs running statistics, {conv.OutChannels} channels and not to be folded already");
            }

            using var scope = DisposeScope.Enter();
            using var noGrad = Autograd.NoGrad();
            var scale = (bn.RunningVar.To(DType.Float64) + bn.Eps).Rsqrt();
            if (bn.Weight is not null)
            {
                scale = scale * bn.Weight.To(DType.Float64);
            }

            var shift = -bn.RunningMean.To(DType.Float64) * scale;
            if (bn.Bias is not null)
            {
                shift = shift + bn.Bias.To(DType.Float64);
            }

            conv.FoldAffine(scale, shift);
            bn.FoldedInto = conv;
        }

        return pairs.Count;
    }
}

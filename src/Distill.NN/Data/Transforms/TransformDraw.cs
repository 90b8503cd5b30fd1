using System.Globalization;

namespace Distill.NN.Data;

/// <summary>
/// One draw of a whole transform pipeline: the parameters of each random step (<see cref="IRandomTransform"/>) in order,
/// flattened. <see cref="ApplyRecording"/> applies a pipeline with a generator and returns the draw it made;
/// <see cref="Replay"/> applies the pipeline with a draw instead of a generator, giving the same image bit for bit.
/// A pipeline is an <see cref="ITransform"/>, a <see cref="Compose"/> of them (nested too), or null (no transform).
/// </summary>
public static class TransformDraw
{
    /// <summary>The names of a draw's parameters, "Step.name" with the step's position (e.g. "0.RandomCrop.top").</summary>
    /// <exception cref="NotSupportedException">A step draws from the generator but cannot be recorded (not an <see cref="IRandomTransform"/>).</exception>
    public static IReadOnlyList<string> ParameterNames(ITransform? pipeline)
    {
        var names = new List<string>();
        var position = 0;
        foreach (var step in Steps(pipeline))
        {
            if (step is IRandomTransform random)
            {
                names.AddRange(random.ParameterNames.Select(n => string.Create(CultureInfo.InvariantCulture, $"{position}.{step.GetType().Name}.{n}")));
            }
            else if (!IsDeterministic(step))
            {
                throw new NotSupportedException($"transform {step} cannot record its random draws (it is not an IRandomTransform), so its draws cannot be stored and replayed");
            }

            position++;
        }

        return names;
    }

    /// <summary>The pipeline's canonical description (each step with its settings), which identifies a transform recipe.</summary>
    public static string Describe(ITransform? pipeline) => pipeline is null ? "none" : string.Join(" | ", Steps(pipeline).Select(s => s.ToString()));

    /// <summary>Applies the pipeline, drawing from <paramref name="random"/>, and returns the draw's parameters.</summary>
    public static (Image Image, ITarget Target, double[] Draw) ApplyRecording(ITransform? pipeline, Image image, ITarget target, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var draw = new List<double>();
        foreach (var step in Steps(pipeline))
        {
            if (step is IRandomTransform randomStep)
            {
                var parameters = randomStep.Draw(image, target, random);
                (image, target) = randomStep.Replay(image, target, parameters);
                draw.AddRange(parameters);
            }
            else
            {
                (image, target) = step.Apply(image, target, random);
            }
        }

        return (image, target, [.. draw]);
    }

    /// <summary>Applies the pipeline with the parameters of a recorded draw (no generator).</summary>
    /// <exception cref="ArgumentException">The draw has another number of parameters than the pipeline takes.</exception>
    public static (Image Image, ITarget Target) Replay(ITransform? pipeline, Image image, ITarget target, ReadOnlySpan<double> draw)
    {
        var offset = 0;
        foreach (var step in Steps(pipeline))
        {
            if (step is IRandomTransform randomStep)
            {
                var count = randomStep.ParameterNames.Count;
                if (offset + count > draw.Length)
                {
                    throw new ArgumentException($"the draw holds {draw.Length} parameters but transform {step} needs parameters {offset} to {offset + count - 1}", nameof(draw));
                }

                (image, target) = randomStep.Replay(image, target, draw.Slice(offset, count));
                offset += count;
            }
            else
            {
                (image, target) = step.Apply(image, target, ReplayGuard.Instance);
            }
        }

        if (offset != draw.Length)
        {
            throw new ArgumentException($"the draw holds {draw.Length} parameters but the transforms take {offset}", nameof(draw));
        }

        return (image, target);
    }

    /// <summary>Refuses a parameter span of the wrong length, naming the transform.</summary>
    /// <exception cref="ArgumentException">The count differs from the transform's parameter names.</exception>
    public static void CheckCount(IRandomTransform transform, ReadOnlySpan<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(transform);
        if (parameters.Length != transform.ParameterNames.Count)
        {
            throw new ArgumentException($"{transform} takes {transform.ParameterNames.Count} parameters ({string.Join(", ", transform.ParameterNames)}) but was given {parameters.Length}", nameof(parameters));
        }
    }

    /// <summary>Formats with the invariant culture (transform descriptions are identities: they must not depend on the machine's locale).</summary>
    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static bool IsDeterministic(ITransform step) => step is Normalize or Resize or CenterCrop;

    private static IEnumerable<ITransform> Steps(ITransform? pipeline)
    {
        switch (pipeline)
        {
            case null:
                yield break;
            case Compose compose:
                foreach (var inner in compose.Transforms)
                {
                    foreach (var step in Steps(inner))
                    {
                        yield return step;
                    }
                }

                break;
            default:
                yield return pipeline;
                break;
        }
    }

    /// <summary>A generator a replayed deterministic step is given: drawing from it is a bug, so it throws.</summary>
    private sealed class ReplayGuard : Random
    {
        public static readonly ReplayGuard Instance = new();

        protected override double Sample() => throw new InvalidOperationException("a deterministic transform drew from the generator while replaying a recorded draw");

        public override int Next() => throw new InvalidOperationException("a deterministic transform drew from the generator while replaying a recorded draw");

        public override int Next(int maxValue) => Next();

        public override int Next(int minValue, int maxValue) => Next();

        public override double NextDouble() => Sample();

        public override long NextInt64() => Next();

        public override long NextInt64(long maxValue) => Next();

        public override long NextInt64(long minValue, long maxValue) => Next();

        public override float NextSingle() => (float)Sample();

        public override void NextBytes(byte[] buffer) => Next();

        public override void NextBytes(Span<byte> buffer) => Next();
    }
}

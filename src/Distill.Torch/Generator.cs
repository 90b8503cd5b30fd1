using Distill.Torch.Interop;

namespace Distill.Torch;

/// <summary>
/// A seeded CPU random-number generator (torch.Generator): random factories and fills that take it draw
/// from its stream instead of the global one, so two generators with one seed give the same numbers.
/// </summary>
public sealed class Generator : IDisposable
{
    /// <summary>Creates a CPU generator seeded with <paramref name="seed"/>.</summary>
    public Generator(ulong seed)
    {
        NativeStatus.Check(Native.dt_generator_new(seed, out var handle));
        Handle = new GeneratorHandle(handle);
    }

    internal GeneratorHandle Handle { get; }

    internal static GeneratorHandle HandleOf(Generator? generator) => generator?.Handle ?? GeneratorHandle.Null;

    /// <summary>Restarts the stream from <paramref name="seed"/> (torch.Generator.manual_seed).</summary>
    public void Seed(ulong seed) => NativeStatus.Check(Native.dt_generator_seed(Handle, seed));

    /// <summary>The generator's full state as a UInt8 tensor (torch.Generator.get_state), for checkpoints.</summary>
    public Tensor GetState() => Tensor.Wrap(Native.dt_generator_get_state(Handle, out var r), r);

    /// <summary>Restores a state returned by <see cref="GetState"/>.</summary>
    public void SetState(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        NativeStatus.Check(Native.dt_generator_set_state(Handle, state.Handle));
    }

    /// <summary>Releases the native generator.</summary>
    public void Dispose() => Handle.Dispose();
}

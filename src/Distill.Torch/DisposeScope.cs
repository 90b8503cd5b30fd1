namespace Distill.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost scope and disposes them with
/// the scope, so a training step frees its temporaries deterministically. Scopes nest strictly LIFO;
/// <see cref="Dispose"/> is idempotent; a tensor that must outlive the scope is handed to the enclosing
/// one with <see cref="Tensor.MoveToOuterScope"/> or released from scopes with <see cref="Tensor.DetachFromScope"/>.
/// </summary>
/// <example><code>
/// using (var scope = DisposeScope.Enter())
/// {
///     var loss = Functional.CrossEntropy(model.Forward(x), y);
///     loss.Backward();
/// } // every intermediate tensor is freed here
/// </code></example>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic]
    private static DisposeScope? _current;

    private readonly List<Tensor> _tensors = [];
    private readonly Thread _thread;
    private bool _disposed;

    private DisposeScope(DisposeScope? outer)
    {
        Outer = outer;
        _thread = Thread.CurrentThread;
    }

    /// <summary>The innermost scope of this thread, or null.</summary>
    public static DisposeScope? Current => _current;

    /// <summary>The scope that was innermost when this one was entered.</summary>
    public DisposeScope? Outer { get; }

    /// <summary>Tensors this scope still owns.</summary>
    public int Count
    {
        get
        {
            var n = 0;
            foreach (var t in _tensors)
            {
                if (t.Scope == this && !t.IsDisposed) n++;
            }

            return n;
        }
    }

    /// <summary>Opens a scope that becomes this thread's innermost one.</summary>
    public static DisposeScope Enter()
    {
        var scope = new DisposeScope(_current);
        _current = scope;
        return scope;
    }

    /// <summary>Disposes every tensor the scope still owns and makes the outer scope current again.</summary>
    /// <exception cref="InvalidOperationException">An inner scope is still open, or this is another thread.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (Thread.CurrentThread != _thread)
        {
            throw new InvalidOperationException("A dispose scope must be disposed on the thread that entered it.");
        }

        if (_current != this)
        {
            throw new InvalidOperationException("Dispose scopes must be disposed in LIFO order: an inner scope is still open.");
        }

        _disposed = true;
        _current = Outer;
        foreach (var t in _tensors)
        {
            if (t.Scope == this)
            {
                t.Dispose();
            }
        }

        _tensors.Clear();
    }

    internal void Add(Tensor tensor)
    {
        tensor.Scope = this;
        _tensors.Add(tensor);
    }
}

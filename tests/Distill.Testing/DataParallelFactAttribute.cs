using Distill.Torch.Distributed;
using Xunit;

namespace Distill.Testing;

/// <summary>A fact that needs a shim built with Gloo; skipped, with the reason, when the shim lacks it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class DataParallelFactAttribute : FactAttribute
{
    /// <summary>Creates the attribute, skipping the test when the shim has no data-parallel support.</summary>
    public DataParallelFactAttribute()
    {
        if (!ProcessGroup.IsAvailable)
        {
            Skip = "the native shim was built without data-parallel support (eng/setup.sh installs libgloo-dev; rebuild)";
        }
    }
}

using Distill.NN.Checkpoints;
using Distill.NN.Optim;
using Distill.Torch;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>
/// Checkpoints load across devices: a file's tensors go to the device asked for, and optimizer state follows its
/// parameter's device (libtorch's meta device stands in for a second device on a machine without a GPU).
/// </summary>
public sealed class DeviceCheckpointTests
{
    [Fact]
    public void SafeTensorsLoad_OntoAnotherDevice_PutsEveryTensorThereWithItsShapeAndDType()
    {
        using var scope = DisposeScope.Enter();
        using var host = SafeTensors.Load(NnFixture.FixturePath("pytorch_small_net.safetensors"));
        using var moved = SafeTensors.Load(NnFixture.FixturePath("pytorch_small_net.safetensors"), Device.Meta);
        Assert.Equal(host.Tensors.Keys, moved.Tensors.Keys);
        Assert.All(moved.Tensors, t =>
        {
            Assert.Equal(Device.Meta, t.Value.Device);
            Assert.Equal(host.Tensors[t.Key].Shape, t.Value.Shape);
            Assert.Equal(host.Tensors[t.Key].DType, t.Value.DType);
        });
    }

    [Fact]
    public void OptimizerLoadStateTensors_SavedOnTheHost_FollowsTheParametersDevice()
    {
        using var scope = DisposeScope.Enter();
        var weight = Tensor.Zeros([2, 3], device: Device.Meta).RequireGrad().DetachFromScope();
        using var optimizer = new Sgd([weight], 0.1, momentum: 0.9);
        optimizer.LoadStateTensors(new Dictionary<string, Tensor> { ["0.momentum_buffer"] = Tensor.Ones([2, 3]) });
        Assert.Equal(Device.Meta, optimizer.StateTensors()["0.momentum_buffer"].Device);
        weight.Dispose();
    }
}

namespace Distill.Torch.Distributed;

/// <summary>How a collective all-reduce combines the ranks' tensors. Values are the shim's codes.</summary>
public enum ReduceOp
{
    /// <summary>Element-wise sum over ranks.</summary>
    Sum = 0,

    /// <summary>Element-wise mean over ranks (a sum divided by the world size).</summary>
    Average = 1,

    /// <summary>Element-wise maximum over ranks.</summary>
    Max = 2,

    /// <summary>Element-wise minimum over ranks.</summary>
    Min = 3,
}

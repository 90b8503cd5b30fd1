namespace Distill.Torch;

/// <summary>Element types of a tensor. Values are the shim's codes, not libtorch's ScalarType values.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float (torch.float32), the default for floating tensors.</summary>
    Float32 = 0,

    /// <summary>64-bit IEEE float (torch.float64).</summary>
    Float64 = 1,

    /// <summary>16-bit IEEE half (torch.float16).</summary>
    Float16 = 2,

    /// <summary>16-bit brain float (torch.bfloat16).</summary>
    BFloat16 = 3,

    /// <summary>64-bit signed integer (torch.int64), the type of class labels and indices.</summary>
    Int64 = 4,

    /// <summary>32-bit signed integer (torch.int32).</summary>
    Int32 = 5,

    /// <summary>8-bit unsigned integer (torch.uint8), the type of raw image bytes.</summary>
    UInt8 = 6,

    /// <summary>Boolean (torch.bool), the result of comparisons.</summary>
    Bool = 7,

    /// <summary>8-bit signed integer (torch.int8).</summary>
    Int8 = 8,

    /// <summary>16-bit signed integer (torch.int16).</summary>
    Int16 = 9,
}

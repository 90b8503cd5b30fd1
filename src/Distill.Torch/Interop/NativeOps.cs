namespace Distill.Torch.Interop;

// Mirrors of the op enums in native/include/distill_torch.h (DT_ABI_VERSION guards their values).

internal enum UnaryOp
{
    Neg, Abs, Exp, Log, Log1p, Sqrt, Rsqrt, Sigmoid, Tanh, Sign, Relu, Relu6, Gelu, GeluTanh, Silu, Hardswish,
    Hardsigmoid, Floor, Ceil, Round, Reciprocal, Sin, Cos, LogicalNot, IsNan, IsFinite, Erf, Square, Expm1, Log2,
}

internal enum UnaryInPlaceOp { Zero, Relu, Neg, Sqrt, Exp, Sigmoid }

internal enum BinaryOp
{
    Add, Sub, Mul, Div, Pow, Minimum, Maximum, Eq, Ne, Lt, Le, Gt, Ge, Matmul, Bmm, LogicalAnd, LogicalOr,
    Remainder, FloorDivide, Atan2, ReverseSub, ReverseDiv, ReversePow,
}

internal enum BinaryInPlaceOp { Add, Sub, Mul, Div, Copy, Maximum }

internal enum TernaryInPlaceOp { AddCMul, AddCDiv }

internal enum ShapeListOp { View, Reshape, Permute, Expand, Repeat, Flip, SqueezeDims }

internal enum ShapeIntOp { Transpose, Narrow, Select, Slice, Flatten, Squeeze, SqueezeAll, Unsqueeze, Contiguous, Clone, Detach, Alias, ContiguousChannelsLast }

internal enum SplitOp { Split, Chunk }

internal enum JoinOp { Cat, Stack }

internal enum IndexOp { IndexSelect, Gather }

internal enum ScatterOp { Scatter, ScatterAdd }

internal enum ReduceOp { Sum, Mean, Amax, Amin, LogSumExp, All, Any, Prod }

internal enum MomentOp { Var, Std }

internal enum IndexedReduceOp { Max, Min }

internal enum ArgOp { ArgMax, ArgMin }

internal enum RandomOp { Rand, Randn }

internal enum RandomFillOp { Uniform, Normal, Bernoulli, Random }

internal enum SoftmaxOp { Softmax, LogSoftmax }

internal enum AdaptivePoolOp { Average, Max }

internal enum PointwiseLossOp { Mse, L1, SmoothL1 }

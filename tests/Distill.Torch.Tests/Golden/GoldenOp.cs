namespace Distill.Torch.Tests.Golden;

/// <summary>Distill's version of one golden case: the same op on the same inputs, outputs in the same order.</summary>
public delegate Tensor[] GoldenOp(GoldenInputs inputs);

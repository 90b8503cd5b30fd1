namespace Distill.Models;

/// <summary>What every zoo model can be configured with.</summary>
/// <param name="NumClasses">Classifier outputs.</param>
/// <param name="InChannels">Image channels (1 for Fashion-MNIST).</param>
public sealed record ModelOptions(int NumClasses = 100, int InChannels = 3);

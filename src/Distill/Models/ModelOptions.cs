namespace Distill.Models;

/// <summary>What every zoo model can be configured with.</summary>
/// <param name="NumClasses">Classifier outputs.</param>
/// <param name="InChannels">Image channels (1 for Fashion-MNIST).</param>
/// <param name="ImageSize">Input height and width; only models with position embeddings (ViT) depend on it.</param>
public sealed record ModelOptions(int NumClasses = 100, int InChannels = 3, int ImageSize = 32);

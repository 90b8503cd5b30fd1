namespace Distill.NN.Data.Scenes;

/// <summary>One accepted object of a scene: which glyph was pasted where, at which size.</summary>
/// <param name="Glyph">Index of the glyph within its split's pool.</param>
/// <param name="Class">Fashion-MNIST class 0–9 (the mask labels it <c>Class + 1</c>).</param>
/// <param name="Side">Side of the pasted square in pixels.</param>
/// <param name="Y">Top row of the square.</param>
/// <param name="X">Left column of the square.</param>
public readonly record struct SceneObject(int Glyph, int Class, int Side, int Y, int X);

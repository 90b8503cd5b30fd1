namespace Distill.NN.Data.Scenes;

/// <summary>A split of the scene set; its value is the split id of the scene seed (docs/data/scenes.md).</summary>
public enum SceneSplit
{
    /// <summary>Training scenes (split id 0), glyphs from Fashion-MNIST train images 0–54 999.</summary>
    Train = 0,

    /// <summary>Validation scenes (split id 1), glyphs from Fashion-MNIST train images 55 000–59 999.</summary>
    Val = 1,

    /// <summary>Test scenes (split id 2), glyphs from the 10 000 Fashion-MNIST test images.</summary>
    Test = 2,
}

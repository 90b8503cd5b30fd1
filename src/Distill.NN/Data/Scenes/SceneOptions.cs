namespace Distill.NN.Data.Scenes;

/// <summary>The knobs of the segmentation scene generator (docs/data/scenes.md); the defaults are the spec's.</summary>
public sealed record SceneOptions
{
    /// <summary>Canvas height.</summary>
    public int Height { get; init; } = 64;

    /// <summary>Canvas width.</summary>
    public int Width { get; init; } = 64;

    /// <summary>Fewest objects requested.</summary>
    public int MinObjects { get; init; } = 1;

    /// <summary>Most objects requested.</summary>
    public int MaxObjects { get; init; } = 4;

    /// <summary>Smallest object side in pixels.</summary>
    public int MinSide { get; init; } = 20;

    /// <summary>Largest object side in pixels.</summary>
    public int MaxSide { get; init; } = 40;

    /// <summary>Largest square-box IoU an object may have with any accepted one.</summary>
    public double MaxOverlap { get; init; } = 0.3;

    /// <summary>Placement attempts per object before it is skipped.</summary>
    public int Attempts { get; init; } = 20;

    /// <summary>Most background level (b = level · rand()).</summary>
    public float BackgroundLevel { get; init; } = 0.15f;

    /// <summary>Standard deviation of the pixel noise.</summary>
    public float NoiseSigma { get; init; } = 0.05f;

    /// <summary>Glyph values above this are the object's alpha.</summary>
    public float AlphaThreshold { get; init; } = 0.125f;

    /// <summary>Image channels: 1 (grey) or 3 (the grey plane replicated, for RGB models).</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Marks the 1-px rim of each visible object 255 (ignore) in the mask: its pixels with a 4-neighbour of another instance or background.</summary>
    public bool IgnoreRim { get; init; }

    /// <summary>The detection scenes' knobs: a 96x96 grey canvas, 1-5 objects of 16-48 pixels, the rest as the segmentation scenes.</summary>
    public static SceneOptions Detection { get; } = new() { Height = 96, Width = 96, MaxObjects = 5, MinSide = 16, MaxSide = 48 };

    /// <summary>Validates the knobs; throws naming the first bad one.</summary>
    public void Validate()
    {
        if (Height < 1 || Width < 1)
        {
            throw new ArgumentException($"scene canvas must be at least 1x1; got {Height}x{Width}");
        }

        if (MinObjects < 0 || MaxObjects < MinObjects || MaxObjects > 254)
        {
            throw new ArgumentException($"scene object counts must satisfy 0 <= min <= max <= 254; got {MinObjects}..{MaxObjects}");
        }

        if (MinSide < 1 || MaxSide < MinSide || MaxSide > Math.Min(Height, Width))
        {
            throw new ArgumentException($"scene object sides must satisfy 1 <= min <= max <= canvas side {Math.Min(Height, Width)}; got {MinSide}..{MaxSide}");
        }

        if (Channels is not (1 or 3))
        {
            throw new ArgumentException($"scene channels must be 1 (grey) or 3 (replicated); got {Channels}");
        }

        if (Attempts < 1)
        {
            throw new ArgumentException($"scene placement attempts must be at least 1; got {Attempts}");
        }
    }
}

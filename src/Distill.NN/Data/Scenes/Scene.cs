namespace Distill.NN.Data.Scenes;

/// <summary>A generated scene: grey image, class mask, instance map and the accepted objects in paste order.</summary>
public sealed class Scene
{
    internal Scene(Image image, Mask mask, byte[] instances, IReadOnlyList<SceneObject> objects, int requested, IReadOnlyList<int> alphaAreas)
    {
        Image = image;
        Mask = mask;
        Instances = instances;
        Objects = objects;
        Requested = requested;
        AlphaAreas = alphaAreas;
    }

    /// <summary>The 1×H×W image in [0, 1].</summary>
    public Image Image { get; }

    /// <summary>The class mask: 0 background, class + 1 where a glyph's alpha holds (later objects on top).</summary>
    public Mask Mask { get; }

    /// <summary>The instance map (row-major H×W): 0 background, object number 1.. where that object is visible.</summary>
    public byte[] Instances { get; }

    /// <summary>The accepted objects, in paste order (object number i + 1 is <c>Objects[i]</c>).</summary>
    public IReadOnlyList<SceneObject> Objects { get; }

    /// <summary>The object count k drawn before the overlap rule (an upper bound of <see cref="Objects"/>' count).</summary>
    public int Requested { get; }

    /// <summary>Per object (paste order) its alpha pixel count before any later object covered it: the unoccluded area.</summary>
    public IReadOnlyList<int> AlphaAreas { get; }
}

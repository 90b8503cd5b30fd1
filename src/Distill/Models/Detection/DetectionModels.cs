using Distill.Models.Segmentation;

namespace Distill.Models.Detection;

/// <summary>
/// The detection networks by name, each built from <see cref="ModelOptions"/> (classes, image channels; height and
/// width only size dry runs): FCOS with torchvision-named ResNet-50 and ResNet-18 backbones at full size (P3-P7, 256
/// wide, 4 convs per tower, GroupNorm 32), and the CPU-sized pair for the 96x96 detection scenes (P2-P4, 32 wide,
/// 2 convs per tower, GroupNorm 8, centerness on the regression tower).
/// </summary>
public static class DetectionModels
{
    /// <summary>The CPU-sized pair's scale ranges for P2..P4: [-1, 12], [12, 24], [24, 1e8].</summary>
    public static IReadOnlyList<(double Min, double Max)> SceneScaleRanges { get; } = [(-1, 12), (12, 24), (24, 1e8)];

    private static readonly SortedDictionary<string, (string Description, Func<ModelOptions, FcosDetector> Create)> Entries = Build();

    /// <summary>Every registered name with its description.</summary>
    public static IEnumerable<(string Name, string Description)> Names => Entries.Select(e => (e.Key, e.Value.Description));

    /// <summary>The options a name is built with when none are given: 10 classes of 1-channel 96x96 images for the scene pair, 80 classes (COCO) of 3-channel 800x800 images otherwise.</summary>
    /// <exception cref="KeyNotFoundException">No such network; the message lists the registered names.</exception>
    public static ModelOptions DefaultOptions(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        _ = Entry(name);
        return name.StartsWith("det_scene_", StringComparison.Ordinal) ? new ModelOptions(10, 1, 96) : new ModelOptions(80, 3, 800);
    }

    /// <summary>Builds the network called <paramref name="name"/>.</summary>
    /// <param name="name">A registered name (<see cref="Names"/>).</param>
    /// <param name="options">Classes and image channels; <see cref="DefaultOptions"/> when null.</param>
    /// <exception cref="KeyNotFoundException">No such network; the message lists the registered names.</exception>
    public static FcosDetector Create(string name, ModelOptions? options = null) => Entry(name).Create(options ?? DefaultOptions(name));

    /// <summary>The CPU-sized FCOS: 3x3 stem, basic blocks at <paramref name="widths"/> (stem width = the first), P2-P4 of <paramref name="fpnChannels"/>.</summary>
    /// <exception cref="ArgumentException">Not four widths.</exception>
    public static FcosDetector Scene(ModelOptions options, long[] widths, int blocks, long fpnChannels = 32)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(widths);
        var backbone = new DilatedResNet(options.InChannels, ResNetStem.Conv3x3, widths[0], widths, [blocks, blocks, blocks, blocks], bottleneck: false, outputStride: 16);
        return new FcosDetector(backbone, options.NumClasses, 2, fpnChannels, extraLevels: false, headConvs: 2, groups: 8, centernessOnRegression: true, SceneScaleRanges);
    }

    private static (string Description, Func<ModelOptions, FcosDetector> Create) Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.TryGetValue(name, out var entry)
            ? entry
            : throw new KeyNotFoundException($"no detection network named '{name}'; networks: {string.Join(", ", Entries.Keys)}");
    }

    private static SortedDictionary<string, (string, Func<ModelOptions, FcosDetector>)> Build()
    {
        var entries = new SortedDictionary<string, (string, Func<ModelOptions, FcosDetector>)>(StringComparer.Ordinal);
        foreach (var depth in new[] { 18, 50 })
        {
            entries[$"fcos_resnet{depth}_fpn"] = ($"FCOS (official layout: FPN P3-P7 256 wide, P6 on P5, 4-conv GroupNorm(32) towers, centerness on the regression tower) on torchvision's ResNet-{depth}",
                o => new FcosDetector(DilatedResNet.TorchVision(depth, 32, o.InChannels), o.NumClasses, 4, 256, extraLevels: true, headConvs: 4, groups: 32,
                    centernessOnRegression: true, FcosDetector.CocoScaleRanges));
        }

        entries["det_scene_teacher"] = ("detection-scene teacher: FCOS, 3x3 stem, basic blocks 2 per stage at 16/32/64/128, FPN P2-P4 32 wide, 2-conv GroupNorm(8) towers",
            o => Scene(o, [16, 32, 64, 128], 2));
        entries["det_scene_student"] = ("detection-scene student: FCOS, 3x3 stem, basic blocks 1 per stage at 8/16/32/64, FPN P2-P4 32 wide, 2-conv GroupNorm(8) towers",
            o => Scene(o, [8, 16, 32, 64], 1));
        return entries;
    }
}

namespace Distill.Models.Segmentation;

/// <summary>
/// The segmentation networks by name, each built from <see cref="ModelOptions"/> (classes, image channels; height
/// and width only size dry runs): the papers' pairs at output stride 8 (DeepLabV3 and PSPNet on ResNet-101 teachers,
/// ResNet-18 students; "_os16" for output stride 16), and the CPU-sized pair for the 64x64 scene set.
/// </summary>
public static class SegmentationModels
{
    // The scene pair's ASPP: the 1x1 branch plus 3x3 branches at 2, 3, 4 (rates 1 to 4, the 1x1 counting as rate 1).
    private static readonly int[] SceneRates = [2, 3, 4];

    private static readonly SortedDictionary<string, (string Description, Func<ModelOptions, SegmentationModel> Create)> Entries = Build();

    /// <summary>Every registered name with its description.</summary>
    public static IEnumerable<(string Name, string Description)> Names => Entries.Select(e => (e.Key, e.Value.Description));

    /// <summary>The options a name is built with when none are given: 11 classes of 1-channel 64x64 images for the scene pair, 19 classes (Cityscapes) of 3-channel 512x512 crops otherwise.</summary>
    /// <exception cref="KeyNotFoundException">No such network; the message lists the registered names.</exception>
    public static ModelOptions DefaultOptions(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        _ = Entry(name);
        return name.StartsWith("scene_", StringComparison.Ordinal) ? new ModelOptions(11, 1, 64) : new ModelOptions(19, 3, 512);
    }

    /// <summary>Builds the network called <paramref name="name"/>.</summary>
    /// <param name="name">A registered name (<see cref="Names"/>).</param>
    /// <param name="options">Classes and image channels; <see cref="DefaultOptions"/> when null.</param>
    /// <exception cref="KeyNotFoundException">No such network; the message lists the registered names.</exception>
    public static SegmentationModel Create(string name, ModelOptions? options = null)
    {
        var entry = Entry(name);
        return entry.Create(options ?? DefaultOptions(name));
    }

    private static (string Description, Func<ModelOptions, SegmentationModel> Create) Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.TryGetValue(name, out var entry)
            ? entry
            : throw new KeyNotFoundException($"no segmentation network named '{name}'; networks: {string.Join(", ", Entries.Keys)}");
    }

    private static SortedDictionary<string, (string, Func<ModelOptions, SegmentationModel>)> Build()
    {
        var entries = new SortedDictionary<string, (string, Func<ModelOptions, SegmentationModel>)>(StringComparer.Ordinal);
        foreach (var depth in new[] { 18, 50, 101 })
        {
            foreach (var stride in new[] { 8, 16 })
            {
                var suffix = stride == 8 ? string.Empty : "_os16";
                entries[$"deeplabv3_resnet{depth}{suffix}"] = ($"DeepLabV3 (torchvision layout: ASPP 12/24/36, 256 wide, FCN aux head) on a dilated ResNet-{depth}, output stride {stride}",
                    o => DeepLabV3.OnResNet(depth, o.NumClasses, o.InChannels, stride));
                if (depth != 50)
                {
                    entries[$"pspnet_resnet{depth}{suffix}"] = ($"PSPNet (Structured KD official head: pools 1/2/3/6, {(depth == 18 ? 128 : 512)} wide, dsn aux head) on a dilated torchvision ResNet-{depth}, output stride {stride}",
                        o => PspNet.OnResNet(depth, o.NumClasses, o.InChannels, stride));
                }
            }
        }

        entries["scene_teacher"] = ("scene-set teacher: DeepLabV3-style, 3x3 stem, basic blocks 2 per stage at 16/32/64/128, last stage dilated 2, ASPP rates 1-4 64 wide, output stride 8",
            o => Scene(o, [16, 16, 32, 64, 128], 2, 64));
        entries["scene_student"] = ("scene-set student: DeepLabV3-style, 3x3 stem, basic blocks 1 per stage at 8/16/32/64, last stage dilated 2, ASPP rates 1-4 32 wide, output stride 8",
            o => Scene(o, [8, 8, 16, 32, 64], 1, 32));
        return entries;
    }

    private static DeepLabV3 Scene(ModelOptions options, long[] widths, int blocks, long head) =>
        new(new DilatedResNet(options.InChannels, ResNetStem.Conv3x3, widths[0], widths[1..], [blocks, blocks, blocks, blocks], bottleneck: false, outputStride: 8, dilateEveryBlock: true),
            options.NumClasses, SceneRates, head);
}

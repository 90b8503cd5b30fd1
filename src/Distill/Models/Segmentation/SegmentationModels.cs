using Distill.NN;
using Distill.Torch;

namespace Distill.Models;

/// <summary>Segmentation models by name (placeholder until the real zoo lands).</summary>
public static class SegmentationModels
{
    /// <summary>Every name with its description.</summary>
    public static IEnumerable<(string Name, string Description)> Names => [("scene_student", "tiny"), ("scene_teacher", "tiny")];

    /// <summary>Builds a model.</summary>
    public static SegmentationModel Create(string name, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= new ModelOptions(11, 1, 64);
        return name switch
        {
            "scene_student" => new Tiny(options, 8),
            "scene_teacher" => new Tiny(options, 16),
            _ => throw new KeyNotFoundException($"no segmentation model named '{name}'"),
        };
    }

    private sealed class Tiny : SegmentationModel
    {
        private readonly Sequential _stem;
        private readonly Sequential _layer1;
        private readonly Sequential _layer2;
        private readonly Sequential _layer3;
        private readonly Sequential _layer4;
        private readonly Conv2d _aux;
        private readonly Sequential _context;
        private readonly Conv2d _cls;

        public Tiny(ModelOptions o, long w)
        {
            _stem = RegisterModule("stem", Blocks.ConvBnRelu(o.InChannels, w, 3, 2, 1));
            _layer1 = RegisterModule("layer1", Blocks.ConvBnRelu(w, w, 3, 1, 1));
            _layer2 = RegisterModule("layer2", Blocks.ConvBnRelu(w, 2 * w, 3, 2, 1));
            _layer3 = RegisterModule("layer3", Blocks.ConvBnRelu(2 * w, 4 * w, 3, 2, 1));
            _layer4 = RegisterModule("layer4", Blocks.ConvBnRelu(4 * w, 4 * w, 3, 1, 1));
            _aux = RegisterModule("aux", new Conv2d(4 * w, o.NumClasses, 1));
            _context = RegisterModule("context", Blocks.ConvBnRelu(4 * w, 4 * w, 3, 1, 1));
            _cls = RegisterModule("cls", new Conv2d(4 * w, o.NumClasses, 1));
            AddTap("stem", "stem");
            AddTap("stage1", "layer1");
            AddTap("stage2", "layer2");
            AddTap("stage3", "layer3");
            AddTap("stage4", "layer4");
            AddTap(ContextTap, "context");
            AddTap(LogitsTap, "cls");
            AddTap(AuxLogitsTap, "aux");
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var x3 = _layer3.Forward(_layer2.Forward(_layer1.Forward(_stem.Forward(input))));
            _aux.Forward(x3);
            return _cls.Forward(_context.Forward(_layer4.Forward(x3)));
        }
    }
}

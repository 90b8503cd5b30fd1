using Distill.Torch;

namespace Distill.NN;

/// <summary>Weight initialisers with torch.nn.init's formulas and random draws (same seed, same values).</summary>
public static class Init
{
    /// <summary>Which fan Kaiming initialisation scales by.</summary>
    public enum FanMode
    {
        /// <summary>Input fan: keeps the forward pass's variance.</summary>
        FanIn,

        /// <summary>Output fan: keeps the backward pass's variance.</summary>
        FanOut,
    }

    /// <summary>The recommended gain for a nonlinearity (torch.nn.init.calculate_gain).</summary>
    /// <param name="nonlinearity">linear, conv2d, sigmoid, tanh, relu, leaky_relu or selu.</param>
    /// <param name="param">The negative slope for leaky_relu (0.01 when null).</param>
    public static double CalculateGain(string nonlinearity, double? param = null) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose2d" or "sigmoid" => 1,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        "selu" => 3.0 / 4,
        _ => throw new ArgumentException($"unsupported nonlinearity '{nonlinearity}'", nameof(nonlinearity)),
    };

    /// <summary>(fan_in, fan_out) of a weight: size(1) and size(0) times the receptive field.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions.</exception>
    public static (long FanIn, long FanOut) CalculateFans(Tensor tensor)
    {
        var shape = tensor.Shape;
        if (shape.Length < 2)
        {
            throw new ArgumentException($"fan in and fan out need at least 2 dimensions; the tensor has shape {Tensor.FormatShape(shape)}", nameof(tensor));
        }

        long receptive = 1;
        for (var i = 2; i < shape.Length; i++)
        {
            receptive *= shape[i];
        }

        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>U(-bound, bound) with bound = gain * sqrt(3 / fan) (torch.nn.init.kaiming_uniform_).</summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        var std = CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(tensor, mode));
        var bound = Math.Sqrt(3.0) * std;
        return Uniform(tensor, -bound, bound, generator);
    }

    /// <summary>N(0, std²) with std = gain / sqrt(fan) (torch.nn.init.kaiming_normal_).</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        var std = CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(tensor, mode));
        return Normal(tensor, 0, std, generator);
    }

    /// <summary>U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (torch.nn.init.xavier_uniform_).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        var std = gain * Math.Sqrt(2.0 / (fanIn + fanOut));
        var a = Math.Sqrt(3.0) * std;
        return Uniform(tensor, -a, a, generator);
    }

    /// <summary>N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)) (torch.nn.init.xavier_normal_).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
    }

    /// <summary>U(low, high) in place, without recording (torch.nn.init.uniform_).</summary>
    public static Tensor Uniform(Tensor tensor, double low = 0, double high = 1, Generator? generator = null)
    {
        using var _ = Autograd.NoGrad();
        return tensor.UniformInPlace(low, high, generator);
    }

    /// <summary>N(mean, std²) in place, without recording (torch.nn.init.normal_).</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
    {
        using var _ = Autograd.NoGrad();
        return tensor.NormalInPlace(mean, std, generator);
    }

    /// <summary>Fills with a value in place (torch.nn.init.constant_).</summary>
    public static Tensor Constant(Tensor tensor, double value)
    {
        using var _ = Autograd.NoGrad();
        return tensor.FillInPlace(value);
    }

    /// <summary>Fills with zeros (torch.nn.init.zeros_).</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    /// <summary>Fills with ones (torch.nn.init.ones_).</summary>
    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>
    /// PyTorch's default for convolution and linear layers: weight kaiming_uniform_(a = sqrt(5)), i.e.
    /// U(±1/sqrt(fan_in)), then bias U(±1/sqrt(fan_in)), drawn in that order.
    /// </summary>
    internal static void DefaultLinearLike(Tensor weight, Tensor? bias)
    {
        KaimingUniform(weight, a: Math.Sqrt(5));
        if (bias is not null)
        {
            var fanIn = CalculateFans(weight).FanIn;
            var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            Uniform(bias, -bound, bound);
        }
    }

    private static long Fan(Tensor tensor, FanMode mode)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        return mode == FanMode.FanIn ? fanIn : fanOut;
    }
}

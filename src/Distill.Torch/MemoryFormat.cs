namespace Distill.Torch;

/// <summary>The order a dense tensor's elements lie in memory (torch.memory_format).</summary>
public enum MemoryFormat
{
    /// <summary>Row-major: the last dimension varies fastest (torch.contiguous_format; NCHW for images).</summary>
    Contiguous,

    /// <summary>A 4-d [N, C, H, W] tensor with the channels varying fastest (torch.channels_last, NHWC in memory).</summary>
    ChannelsLast,
}

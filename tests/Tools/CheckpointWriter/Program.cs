using System.Globalization;
using Distill.NN.Checkpoints;
using Distill.Torch;

// Usage: CheckpointWriter PATH MEGABYTES
// Writes a checkpoint of one Float32 tensor of about MEGABYTES to PATH, again and again, until killed.
var path = args[0];
var elements = long.Parse(args[1], CultureInfo.InvariantCulture) * 1024 * 1024 / 4;
using var big = Tensor.Full([elements], 7.0);
for (var round = 0; ; round++)
{
    Console.WriteLine($"writing {round}");
    SafeTensors.Save(path, [new("big", big)], new Dictionary<string, string> { ["round"] = round.ToString(CultureInfo.InvariantCulture) });
}

using System.CommandLine;
using Distill.Configs;
using Distill.Methods;
using Distill.Parity;
using Distill.Torch;

namespace Distill.Cli;

/// <summary>`distill check`: run one method on given tensors and write its terms and gradients (parity with a PyTorch port).</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var command = new Command("check", "Run a method on tensors from a safetensors file and write every loss term and gradient, to compare with a PyTorch implementation.");
        var method = new Option<string>("--method") { Description = "The method's short name (see `distill methods`).", Required = true };
        var set = new Option<string[]>("--set") { Description = "A method option, e.g. --set temperature=2 (repeatable)." };
        var epoch = new Option<int>("--epoch") { Description = "The 1-based epoch (warm-ups and curricula).", DefaultValueFactory = _ => 1 };
        var iteration = new Option<int>("--iteration") { Description = "The 1-based iteration of the run (warm-ups in iterations, e.g. tfd's warmup_iters); 0: not known.", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Seed for parameters the inputs do not give.", DefaultValueFactory = _ => 0 };
        var inputs = new Option<FileInfo?>("--inputs") { Description = "student.logits, labels, teacher.logits (or logit maps [B, K, h, w] with masks [B, H, W], or a detector's outputs [B, L, K+5] with boxes [B, M, 4], box_labels, box_crowd [B, M], box_counts [B], image_sizes [B, 2]), student.<tap> / teacher.<tap> feature maps, optional method.<param> and random.<draw> tensors (see --describe)." };
        var output = new Option<FileInfo?>("--output") { Description = "Where loss.* and grad.* tensors go." };
        var describe = new Option<bool>("--describe") { Description = "List the inputs, parameters, random draws and options the method takes (for the shapes in --inputs when given)." };
        var device = DeviceOption.Create();
        foreach (var o in new Option[] { method, set, epoch, iteration, seed, inputs, output, describe, device })
        {
            command.Options.Add(o);
        }

        CliChecks.AtLeast(epoch, 1);
        CliChecks.AtLeast(iteration, 0);
        command.SetAction(r =>
        {
            TorchRuntime.ManualSeed((ulong)r.GetValue(seed));
            var options = MethodCheck.Options(r.GetValue(method)!, r.GetValue(set) ?? []);
            if (r.GetValue(describe))
            {
                r.InvocationConfiguration.Output.Write(MethodCheck.Describe(options, r.GetValue(inputs)?.FullName));
                return 0;
            }

            if (r.GetValue(inputs) is not { } inputFile || r.GetValue(output) is not { } outputFile)
            {
                throw new ConfigException("--inputs and --output are required unless --describe is given");
            }

            var on = Distill.Engine.RunDevice.Resolve(r.GetValue(device) ?? "cpu", "--device");
            var values = MethodCheck.Run(options, inputFile.FullName, outputFile.FullName, r.GetValue(epoch), on, r.GetValue(iteration));
            foreach (var (name, value) in values)
            {
                r.InvocationConfiguration.Output.WriteLine($"loss.{name} = {value:R}");
            }

            return 0;
        });
        return command;
    }
}

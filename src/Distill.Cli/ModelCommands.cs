using System.CommandLine;
using System.Globalization;
using Distill.Models;
using Distill.Tasks;
using Distill.Torch;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>`distill models` and `distill inspect`.</summary>
internal static class ModelCommands
{
    public static Command Models()
    {
        var command = new Command("models", "List the model zoo with parameter counts.");
        var classes = new Option<int>("--classes") { Description = "Classifier outputs used for the counts.", DefaultValueFactory = _ => 100 };
        command.Options.Add(classes);
        CliChecks.AtLeast(classes, 1);
        command.SetAction(result =>
        {
            var table = new Table().AddColumns("model", "task", "description", "parameters");
            foreach (var (name, description, task) in TrainingTasks.Models)
            {
                using var scope = DisposeScope.Enter();
                using var model = task.CreateModel(name, new ModelOptions(result.GetValue(classes)));
                table.AddRow(Markup.Escape(name), task.Name, Markup.Escape(description), model.ParameterCount().ToString("N0", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    public static Command Inspect()
    {
        var command = new Command("inspect", "Show a model's feature taps with their shapes, its heads, its BN-before-ReLU modules and its size.");
        var name = new Argument<string>("model") { Description = "A name from `distill models`." };
        var input = new Option<string>("--input") { Description = "Input size as CxHxW.", DefaultValueFactory = _ => "3x32x32" };
        var classes = new Option<int>("--classes") { Description = "Classifier outputs.", DefaultValueFactory = _ => 100 };
        var modules = new Option<bool>("--modules") { Description = "Also list every module path a method can tap (tap: or stages: of a recipe), with its output shape." };
        input.Validators.Add(r =>
        {
            var text = r.GetValueOrDefault<string>();
            if (TryParseInput(text, out _) is false)
            {
                r.AddError($"--input '{text}' is not CxHxW with positive sizes, e.g. 3x32x32");
            }
        });
        command.Arguments.Add(name);
        command.Options.Add(input);
        command.Options.Add(classes);
        command.Options.Add(modules);
        CliChecks.AtLeast(classes, 1);
        command.SetAction(result =>
        {
            TryParseInput(result.GetValue(input), out var size);
            var (c, h, w) = size;
            using var scope = DisposeScope.Enter();
            var modelName = CliChecks.Model("model", result.GetValue(name)!);
            TappedModel<Tensor> model;
            try
            {
                model = TrainingTasks.OwnerOf(modelName)!.CreateModel(modelName, new ModelOptions(result.GetValue(classes), c, h, w));
            }
            catch (ArgumentException e)
            {
                throw new Distill.Configs.ConfigException($"--input {c}x{h}x{w}: {e.Message}", e);
            }

            var console = ConsoleFor(result.InvocationConfiguration.Output);
            using (model)
            {
                var shapes = model.DryRun(c, h, w);
                var table = new Table().AddColumns("tap", "module", "shape");
                foreach (var tap in model.Taps)
                {
                    table.AddRow(Markup.Escape(tap.Name), Markup.Escape(tap.ModulePath), Markup.Escape(Tensor.FormatShape(shapes.Single(s => s.Tap == tap.Name).Shape)));
                }

                console.MarkupLine($"[bold]{Markup.Escape(result.GetValue(name)!)}[/] on {c}x{h}x{w}: {model.ParameterCount().ToString("N0", CultureInfo.InvariantCulture)} parameters");
                console.Write(table);
                console.MarkupLine($"Heads: {Markup.Escape(string.Join(", ", model.Heads.Select(h => $"{h.Name} ({h.ModulePath})")))}");
                console.MarkupLine($"BN before ReLU: {Markup.Escape(string.Join(", ", model.BnBeforeRelu))}");
                if (result.GetValue(modules))
                {
                    var recorded = model.DryRunModuleShapes().ToDictionary(m => m.Path, m => m.Shape, StringComparer.Ordinal);
                    var paths = new Table().AddColumns("module path", "type", "shape");
                    foreach (var (path, module) in model.NamedModules().Where(m => m.Path.Length > 0))
                    {
                        paths.AddRow(Markup.Escape(path), Markup.Escape(module.GetType().Name), recorded.TryGetValue(path, out var shape) ? Markup.Escape(Tensor.FormatShape(shape)) : "-");
                    }

                    console.Write(paths);
                }
            }

            return 0;
        });
        return command;
    }

    // The process's console as it is; any other writer (tests) gets plain text.
    internal static IAnsiConsole ConsoleFor(TextWriter output) =>
        ReferenceEquals(output, Console.Out)
            ? AnsiConsole.Console
            : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });

    internal static bool TryParseInput(string? text, out (int C, int H, int W) size)
    {
        size = default;
        var parts = (text ?? string.Empty).Split('x');
        var values = new int[3];
        if (parts.Length != 3)
        {
            return false;
        }

        for (var i = 0; i < 3; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] <= 0)
            {
                return false;
            }
        }

        size = (values[0], values[1], values[2]);
        return true;
    }
}

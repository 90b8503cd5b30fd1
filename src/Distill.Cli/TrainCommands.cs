using System.Globalization;
using System.CommandLine;
using Distill.Configs;
using Distill.Engine;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>`distill train`, `distill teacher` and `distill methods`.</summary>
internal static class TrainCommands
{
    public static Command Train() => Create("train", "Train a student, alone or distilled, from a YAML recipe.", forceNoMethod: false);

    public static Command Teacher() => Create("teacher", "Train a teacher from a YAML recipe (the method is ignored); its weights end up in <output>/best.safetensors.", forceNoMethod: true);

    public static Command Methods()
    {
        var command = new Command("methods", "List the distillation methods with their defaults and papers.");
        command.SetAction(_ =>
        {
            // One task per line, never wrapped ("classification" is the column's width).
            var table = new Table().AddColumns(new TableColumn("name"), new TableColumn("method"), new TableColumn("tasks").NoWrap(), new TableColumn("defaults"), new TableColumn("paper"));
            var none = Distill.Methods.MethodFactory.None;
            table.AddRow(none.Name, Markup.Escape(none.Title), Markup.Escape(string.Join('\n', none.AppliesTo)), "-", none.Paper);
            foreach (var d in Distill.Methods.MethodFactory.Descriptors)
            {
                table.AddRow(Markup.Escape(d.Name), Markup.Escape(d.NeedsTeacher ? d.Title : d.Title + " [no teacher]"), Markup.Escape(string.Join('\n', d.AppliesTo)), Markup.Escape(d.Defaults), Markup.Escape(d.Paper));
            }

            table.AddRow("+ ce_weight", "the task's loss weight (cross-entropy; gt_weight for ofa): the trainer adds that term, a method returns only its distillation terms", "-", "per method", "-");
            table.AddRow("+ logit_standardization", "z-score both logit vectors first (a switch on kd, dkd, ctkd and sdd)", "-", "recipe: temperature 2, kd_weight 9", "Sun et al., CVPR 2024 (arXiv 2403.01427)");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Create(string name, string description, bool forceNoMethod)
    {
        var command = new Command(name, description);
        var config = new Option<FileInfo>("--config") { Description = "The YAML recipe.", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a key, e.g. --set train.lr=0.01 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in the recipe's output folder from its last checkpoint." };
        command.Options.Add(config);
        command.Options.Add(set);
        command.Options.Add(resume);
        var device = DeviceOption.Create(recipeKey: true);
        command.Options.Add(device);
        var nproc = new Option<int>("--nproc") { Description = "Data-parallel: start this many training processes on this machine (data.batch_size is the global batch).", DefaultValueFactory = _ => 1 };
        var nnodes = new Option<int>("--nnodes") { Description = "Data-parallel: the number of machines (run the same command on each).", DefaultValueFactory = _ => 1 };
        var nodeRank = new Option<int>("--node-rank") { Description = "Data-parallel: this machine's index, 0 to --nnodes - 1 (0 runs rank 0 and writes the run folder)." };
        var masterAddr = new Option<string>("--master-addr") { Description = "Data-parallel: the address of the machine with --node-rank 0.", DefaultValueFactory = _ => "127.0.0.1" };
        var masterPort = new Option<int>("--master-port") { Description = "Data-parallel: the rendezvous port on that machine (default: a free port, one machine only)." };
        command.Options.Add(nproc);
        command.Options.Add(nnodes);
        command.Options.Add(nodeRank);
        command.Options.Add(masterAddr);
        command.Options.Add(masterPort);
        var method = new Option<string?>("--method", "--kd-mode", "--kd_mode")
        {
            Description = "The method (sets method.name); its options follow as flags, train_kd.py style: --method tfd --lambda-inter 0.0005 --lambda-intra 0.0008.",
        };
        if (!forceNoMethod)
        {
            command.Options.Add(method);
            command.TreatUnmatchedTokensAsErrors = false;
        }

        var cacheSoftLabels = new Option<int?>("--cache-soft-labels")
        {
            Description = "After training, build <output>/soft-labels.safetensors: M recorded augmentation draws per training image with the teacher's outputs (students take it as teacher.soft_labels; resumes a killed build).",
        };
        var topK = new Option<int>("--top-k") { Description = "With --cache-soft-labels: keep the teacher's top K classes per draw, the rest of the mass spread evenly (0: full logits)." };
        if (forceNoMethod)
        {
            command.Options.Add(cacheSoftLabels);
            command.Options.Add(topK);
        }

        command.SetAction(r =>
        {
            var overrides = (r.GetValue(set) ?? []).ToList();
            if (r.GetValue(device) is { } deviceName)
            {
                overrides.Add($"train.device={deviceName}");
            }

            if (!forceNoMethod)
            {
                if (r.GetValue(method) is { } methodName)
                {
                    overrides.Add($"method.name={methodName}");
                }

                overrides.AddRange(MethodFlags(r.UnmatchedTokens));
            }

            if (forceNoMethod)
            {
                overrides.Add("method.name=none");
            }

            var recipe = Recipes.Load(r.GetValue(config)!.FullName, overrides);
            if (forceNoMethod)
            {
                recipe = recipe with { Teacher = null };
            }

            CliChecks.OutputFolder("output", recipe.Output);
            var worker = DataParallelEnvironment.Read(Environment.GetEnvironmentVariable);
            var plan = new Launcher.Plan(r.GetValue(nproc), r.GetValue(nnodes), r.GetValue(nodeRank), r.GetValue(masterAddr) ?? "127.0.0.1", r.GetValue(masterPort));
            if (worker is null)
            {
                plan.Check();
                if (plan.Nproc * plan.Nnodes > 1)
                {
                    CheckGlobalBatch(recipe, r.GetValue(config)!.FullName, overrides, plan.Nproc * plan.Nnodes);
                    // The launcher: the same command again, once per rank (the recipe was checked above, once).
                    return Launcher.Run(plan, Launcher.Self(), Environment.GetCommandLineArgs()[1..], Console.Out, Console.Error);
                }
            }
            else if (worker.WorldSize > 1)
            {
                CheckGlobalBatch(recipe, r.GetValue(config)!.FullName, overrides, worker.WorldSize);
                var store = forceNoMethod ? r.GetValue(cacheSoftLabels) : null;
                return RunWorker(recipe, worker, r.GetValue(resume), name, store is { } m ? (m, r.GetValue(topK)) : null);
            }

            DataParallelEnvironment.UseCoreShare(1);
            var from = recipe.Teacher is null || Distill.Methods.MethodFactory.Find(recipe.Method.Name) is not { NeedsTeacher: true } ? string.Empty : $" from {recipe.Teacher.Model}";
            AnsiConsole.MarkupLine(Markup.Escape($"{name}: {recipe.Student.Model}" + (ReferenceEquals(Distill.Methods.MethodFactory.Find(recipe.Method.Name), Distill.Methods.MethodFactory.None) ? " alone" : $" with {recipe.Method.Name}{from}") + $", {recipe.Train.Epochs} epochs, output {recipe.Output}"));
            var task = Distill.Tasks.TrainingTasks.Create(recipe.Task);
            var metric = task.PrimaryMetricLabel;
            var summary = TrainingDisplay.Run(recipe.Student.Model, recipe.Train.Epochs, batchesPerEpoch: 0,
                (progress, onEpoch) => TrainingRun.Execute(recipe, r.GetValue(resume), progress, onEpoch), task);
            WriteResults(summary, task);
            AnsiConsole.MarkupLine(Markup.Escape($"best test {metric} {summary.BestAccuracy:P2}; logs, config and checkpoints in {summary.Directory}"));
            if (forceNoMethod && r.GetValue(cacheSoftLabels) is { } draws)
            {
                BuildSoftLabels(recipe, draws, r.GetValue(topK));
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// One rank of a data-parallel job: its threads (the cores shared out unless OMP_NUM_THREADS says), the process group,
    /// and the run. Rank 0 shows what a one-process run shows; the others are quiet but for errors. Rank 0 alone then
    /// builds the soft-label store when one was asked for (<paramref name="softLabels"/>: draws per image and top-k).
    /// </summary>
    private static int RunWorker(RunConfig recipe, DataParallelEnvironment worker, bool resume, string name, (int Draws, int TopK)? softLabels)
    {
        Interrupt.DieWithLauncher();
        DataParallelEnvironment.UseCoreShare(worker.LocalWorldSize);

        using var group = DataParallelEnvironment.CreateProcessGroup(worker.Timeout);
        var task = Distill.Tasks.TrainingTasks.Create(recipe.Task);
        if (worker.Rank != 0)
        {
            TrainingRun.Execute(recipe, group, resume, null, null, TextWriter.Null);
            return 0;
        }

        AnsiConsole.MarkupLine(Markup.Escape($"{name}: {recipe.Student.Model}, {recipe.Train.Epochs} epochs, {worker.WorldSize} processes (global batch {recipe.Data.BatchSize}), output {recipe.Output}"));
        var summary = TrainingDisplay.Run(recipe.Student.Model, recipe.Train.Epochs, batchesPerEpoch: 0,
            (progress, onEpoch) => TrainingRun.Execute(recipe, group, resume, progress, onEpoch, null), task);
        WriteResults(summary, task);
        AnsiConsole.MarkupLine(Markup.Escape($"best test {task.PrimaryMetricLabel} {summary.BestAccuracy:P2}; logs, config and checkpoints in {summary.Directory}"));
        if (softLabels is { } store)
        {
            BuildSoftLabels(recipe, store.Draws, store.TopK);
        }

        return 0;
    }

    private static void BuildSoftLabels(RunConfig recipe, int draws, int topK)
    {
        var path = SoftLabelProgress.Build(recipe, draws, topK);
        AnsiConsole.MarkupLine(Markup.Escape($"soft-label store ({draws} draws per image) in {path}: set teacher.soft_labels to it (teacher.checkpoint {Path.Combine(recipe.Output, "best.safetensors")})"));
    }

    /// <summary>The recipe's batch is the job's: refuse one the processes cannot share evenly, naming where it was set.</summary>
    /// <exception cref="ConfigException">data.batch_size is not a multiple of <paramref name="worldSize"/>.</exception>
    private static void CheckGlobalBatch(RunConfig recipe, string path, IEnumerable<string> overrides, int worldSize)
    {
        var batch = recipe.Data.BatchSize;
        if (batch % worldSize != 0)
        {
            throw new ConfigException($"{ConfigLoader.Locate(path, overrides, "data.batch_size")}: data.batch_size {batch} is the global batch of the {worldSize} processes and must be divisible by {worldSize} (each process trains batch_size / {worldSize}); choose a multiple of {worldSize}, or another --nproc");
        }
    }

    /// <summary>The final table: one row per epoch of this invocation with every loss term, the task's training and test metrics, rate and images/s.</summary>
    private static void WriteResults(TrainingRun.Summary summary, Distill.Tasks.ITrainingTask task)
    {
        var metric = task.PrimaryMetricLabel;
        if (summary.Epochs.Count == 0)
        {
            return;
        }

        var terms = summary.Epochs[0].LossTerms.Keys.ToArray();
        var table = new Table().AddColumns(["epoch", .. terms, $"train {task.TrainMetricLabel}", $"test {metric}", "lr", "images/s"]);
        foreach (var e in summary.Epochs)
        {
            var best = e.TestAccuracy >= summary.BestAccuracy ? " (best)" : string.Empty;
            table.AddRow([e.Epoch.ToString(CultureInfo.InvariantCulture), .. terms.Select(t => e.LossTerms[t].ToString("F4", CultureInfo.InvariantCulture)),
                e.TrainAccuracy.ToString("P2", CultureInfo.InvariantCulture), e.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture) + best,
                e.LearningRate.ToString("G3", CultureInfo.InvariantCulture), e.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture)]);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>"--lambda-inter 0.0005" (or "--lambda_inter=0.0005") becomes the override "method.lambda_inter=0.0005".</summary>
    /// <exception cref="ConfigException">A token is not a --flag, or a flag has no value.</exception>
    internal static IEnumerable<string> MethodFlags(IReadOnlyList<string> tokens)
    {
        var result = new List<string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length == 2)
            {
                throw new ConfigException($"unexpected argument '{token}': method options are flags such as --temperature 4 (see `distill methods`)");
            }

            var eq = token.IndexOf('=', StringComparison.Ordinal);
            var key = (eq < 0 ? token[2..] : token[2..eq]).Replace('-', '_');
            string value;
            if (eq >= 0)
            {
                value = token[(eq + 1)..];
            }
            else if (i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = tokens[++i];
            }
            else
            {
                throw new ConfigException($"flag {token} needs a value (e.g. {token} 0.5)");
            }

            result.Add($"method.{key}={value}");
        }

        return result;
    }
}
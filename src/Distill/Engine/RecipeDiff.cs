using Distill.Configs;
using Distill.Methods;

namespace Distill.Engine;

/// <summary>
/// What a resume may not change: every recipe key that changes the result of the remaining epochs (data,
/// models, the method and each of its options with defaults filled in, optimizer, schedule, seed). The output
/// folder and train.device may change (a run resumes on another device), keys that the run does not read (a teacher of a method that needs none, the milestones of
/// a schedule other than multistep) are ignored, and train.epochs may change only where no epoch's rate depends
/// on it: a multistep or constant schedule may be lengthened, or shortened down to the last completed epoch;
/// the length of a cosine, poly or onecycle schedule is train.epochs, so there it is fixed. The optimizer,
/// parameter-group, warm-up, step_per and grad_clip keys are compared like every other key. (No method reads
/// the total epoch count today; one that did would make train.epochs fixed for it too.)
/// </summary>
internal static class RecipeDiff
{
    /// <summary>One line per differing key, naming it with the checkpoint's value and the recipe's; empty when the run may resume.</summary>
    /// <param name="saved">The recipe stored in the checkpoint.</param>
    /// <param name="recipe">The recipe of this invocation.</param>
    /// <param name="completedEpochs">The checkpoint's last completed epoch.</param>
    public static IReadOnlyList<string> Differences(RunConfig saved, RunConfig recipe, int completedEpochs)
    {
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(recipe);
        var before = Relevant(saved).ToDictionary(e => e.Key, e => e.Text, StringComparer.Ordinal);
        var after = Relevant(recipe).ToList();
        var differences = new List<string>();
        foreach (var (key, text) in after)
        {
            var old = before.GetValueOrDefault(key);
            if (old != text)
            {
                differences.Add($"{key} is {old ?? "not set"} in the checkpoint and {text} in the recipe");
            }
        }

        foreach (var (key, text) in before.Where(b => !after.Any(a => a.Key == b.Key)))
        {
            differences.Add($"{key} is {text} in the checkpoint and not set in the recipe");
        }

        var (was, now) = (saved.Train.Epochs, recipe.Train.Epochs);
        if (was != now)
        {
            var head = $"train.epochs is {was} in the checkpoint and {now} in the recipe";
            if (now < completedEpochs)
            {
                differences.Add($"{head}, but the checkpoint has already completed epoch {completedEpochs}");
            }
            else if (new[] { saved.Train.Schedule, recipe.Train.Schedule }.FirstOrDefault(LengthDependent) is { } schedule)
            {
                differences.Add($"{head}, but the {schedule} schedule's rate at every epoch depends on train.epochs (it is fixed for a {schedule} run)");
            }
        }

        return differences;
    }

    /// <summary>Schedules whose rates depend on the run's length (multistep's milestones and constant's rate do not).</summary>
    private static bool LengthDependent(string schedule) => schedule is not ("multistep" or "constant");

    /// <summary>The keys that change the result, with the method's defaults filled in.</summary>
    private static IEnumerable<(string Key, string Text)> Relevant(RunConfig config)
    {
        var method = MethodFactory.Find(config.Method.Name);
        var options = method is null ? config.Method.Options
            : method.Options.ToDictionary(o => o.Key, o => config.Method.Options.TryGetValue(o.Key, out var value) ? value : o.Default, StringComparer.Ordinal);
        var resolved = config with
        {
            Method = config.Method with { Options = options },
            Teacher = method is { NeedsTeacher: true } ? config.Teacher : null,
        };
        // The writer leaves out what does not apply (the milestones of a schedule other than multistep); train.epochs is compared above.
        return ConfigWriter.Entries(resolved).Where(e => e.Key != "train.epochs" && RecipeSchema.Find(e.Key) is not { MayChangeOnResume: true });
    }
}

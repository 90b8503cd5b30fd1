namespace Distill.Tasks;

/// <summary>The tasks a recipe may name (<c>task:</c>); a new task adds one line here.</summary>
public static class TrainingTasks
{
    private static readonly Dictionary<string, Func<ITrainingTask>> Factories = new(StringComparer.Ordinal)
    {
        ["classification"] = () => ClassificationTask.Default,
        ["segmentation"] = () => SegmentationTask.Default,
        ["detection"] = () => Detection.DetectionTask.Default,
    };

    /// <summary>The task of a recipe that names none, and of a trainer given none: classification.</summary>
    public static ITrainingTask Default => ClassificationTask.Default;

    /// <summary>Every task's name, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Factories.Keys];

    /// <summary>Every task's default instance, in registration order.</summary>
    public static IReadOnlyList<ITrainingTask> All => [.. Factories.Values.Select(f => f())];

    /// <summary>Every model of every task, with the task that trains it, in registration order.</summary>
    public static IEnumerable<(string Name, string Description, ITrainingTask Task)> Models =>
        All.SelectMany(t => t.Models.Select(m => (m.Name, m.Description, t)));

    /// <summary>The task whose model is called <paramref name="model"/>, or null when no task has one.</summary>
    public static ITrainingTask? OwnerOf(string model) => All.FirstOrDefault(t => t.Models.Any(m => m.Name == model));

    /// <summary>The task <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No task has that name.</exception>
    public static ITrainingTask Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Factories.TryGetValue(name, out var create) ? create()
            : throw new ArgumentException($"unknown task '{name}'; tasks are: {string.Join(", ", Names)}", nameof(name));
    }
}

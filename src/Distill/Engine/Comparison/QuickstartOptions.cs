namespace Distill.Engine.Comparison;

/// <summary>What `distill quickstart` was asked: each value that is set overrides a key of the committed recipes.</summary>
public sealed record QuickstartOptions
{
    /// <summary>The task whose committed recipes run: classification (Fashion-MNIST) or segmentation (the scene set).</summary>
    public string Task { get; init; } = "classification";

    /// <summary>Student epochs (train.epochs of the students; null: the recipe's).</summary>
    public int? Epochs { get; init; }

    /// <summary>Teacher epochs (train.epochs of the teacher; null: the recipe's).</summary>
    public int? TeacherEpochs { get; init; }

    /// <summary>A smoke run: the first 6,000 training and 2,000 test images, one epoch each.</summary>
    public bool Fast { get; init; }

    /// <summary>The teacher's seed and the students' first.</summary>
    public int Seed { get; init; }

    /// <summary>Student runs per method (seeds <see cref="Seed"/>, <see cref="Seed"/> + 1, ...).</summary>
    public int Seeds { get; init; } = 1;

    /// <summary>The teacher model (null: the recipe's).</summary>
    public string? Teacher { get; init; }

    /// <summary>The student model (null: the recipe's).</summary>
    public string? Student { get; init; }

    /// <summary>The methods compared with the student alone.</summary>
    public IReadOnlyList<ComparisonMethod> Methods { get; init; } = [];

    /// <summary>train.device of every run (null: the recipes').</summary>
    public string? Device { get; init; }

    /// <summary>The recipes before per-iteration schedules (cosine stepped per epoch): the old quickstart's numbers, to the bit.</summary>
    public bool LegacySchedule { get; init; }

    /// <summary>
    /// Draws per image of a soft-label store (<see cref="SoftLabelStage"/>) the logit methods train from instead of running
    /// the teacher; 0: none, every method runs the teacher online.
    /// </summary>
    public int SoftLabels { get; init; }

    /// <summary>"key=value" overrides of both recipes, applied after the flags (teacher.* keys: the students' recipes only).</summary>
    public IReadOnlyList<string> Sets { get; init; } = [];

    /// <summary>The folder of the teacher cache (cache/ under it).</summary>
    public string Output { get; init; } = "runs";

    /// <summary>The folder of this quickstart's student runs and results.</summary>
    public string RunDirectory { get; init; } = "runs/quickstart";
}

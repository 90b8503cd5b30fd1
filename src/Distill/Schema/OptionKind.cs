namespace Distill.Schema;

/// <summary>
/// The type of a method option's value, as a recipe, a flag or the plain API gives it; the value it yields is given per
/// member. Shared by the method registry (Methods) and the recipe loader (Configs), which do not reference each other.
/// </summary>
public enum OptionKind
{
    /// <summary>A finite real number (double).</summary>
    Number,

    /// <summary>An integer (int).</summary>
    Integer,

    /// <summary>true or false (bool).</summary>
    Boolean,

    /// <summary>Any string, e.g. a tap name (string).</summary>
    Text,

    /// <summary>One of the option's allowed strings (string).</summary>
    Choice,

    /// <summary>A list of integers, e.g. [1, 2, 4] (int[]).</summary>
    IntegerList,

    /// <summary>A list of strings, e.g. [stage1, stage2] (string[]).</summary>
    StringList,

    /// <summary>A list of real numbers, e.g. [1.0, 1.5] (double[]).</summary>
    NumberList,
}

namespace Distill.Configs;

/// <summary>The type of a method option's value, as the loader reads it; the value it yields is given per member.</summary>
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

    /// <summary>One string of <see cref="OptionSpec.Allowed"/> (string).</summary>
    Choice,

    /// <summary>A list of integers, e.g. [1, 2, 4] (int[]).</summary>
    IntegerList,

    /// <summary>A list of strings, e.g. [stage1, stage2] (string[]).</summary>
    StringList,

    /// <summary>A list of real numbers, e.g. [1.0, 1.5] (double[]).</summary>
    NumberList,
}

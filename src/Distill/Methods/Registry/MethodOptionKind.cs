namespace Distill.Methods;

/// <summary>The value type of a method option.</summary>
public enum MethodOptionKind
{
    /// <summary>A real number.</summary>
    Number,

    /// <summary>An integer.</summary>
    Integer,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>Any string (a tap name, for instance).</summary>
    Text,

    /// <summary>One string of a fixed set.</summary>
    Choice,

    /// <summary>A list of integers, e.g. [1, 2, 4].</summary>
    IntegerList,

    /// <summary>A list of strings, e.g. [stage1, stage2].</summary>
    StringList,

    /// <summary>A list of real numbers, e.g. [1.0, 1.5].</summary>
    NumberList,
}

namespace Distill.Configs;

/// <summary>What a recipe key holds, which decides how the loader reads it and the writer writes it.</summary>
internal enum RecipeKeyKind
{
    /// <summary>An integer (int), at least <see cref="RecipeKey.Minimum"/>.</summary>
    Integer,

    /// <summary>A finite number (double) in [<see cref="RecipeKey.Minimum"/>, <see cref="RecipeKey.Maximum"/>].</summary>
    Number,

    /// <summary>true or false (also True, False, yes, no, 1, 0).</summary>
    Boolean,

    /// <summary>One of <see cref="RecipeKey.Allowed"/> (a string, written quoted).</summary>
    Choice,

    /// <summary>Any text, e.g. a path (a string, written quoted).</summary>
    Text,

    /// <summary>A folder that must not be empty text (a string, written quoted).</summary>
    Folder,

    /// <summary>A device (cpu, cuda, cuda:N), written as "cuda:0" (unquoted).</summary>
    Device,

    /// <summary>A list of integers.</summary>
    IntegerList,

    /// <summary>A list of finite numbers.</summary>
    NumberList,

    /// <summary>A list of names, each one of <see cref="RecipeKey.Allowed"/> (written unquoted).</summary>
    NameList,
}

using Xunit;

namespace Distill.Cli.Tests;

/// <summary>The fenced code blocks of a docs/ page, for the tests that run a page's code as written.</summary>
internal static class MarkdownBlocks
{
    /// <summary>The text of the <paramref name="index"/>-th block in <paramref name="language"/> of the page at <paramref name="relativePath"/> (under the repository's root), line endings as "\n".</summary>
    public static string Block(string relativePath, string language, int index)
    {
        var page = File.ReadAllText(Path.Combine(RepositoryRoot.Path, relativePath)).ReplaceLineEndings("\n");
        var fence = $"```{language}\n";
        var start = -1;
        for (var i = 0; i <= index; i++)
        {
            start = page.IndexOf(fence, start + 1, StringComparison.Ordinal);
            Assert.True(start >= 0, $"{relativePath} has no {language} block {index}");
        }

        start += fence.Length;
        return page[start..page.IndexOf("\n```", start, StringComparison.Ordinal)];
    }
}

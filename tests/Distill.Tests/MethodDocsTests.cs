using System.Text.RegularExpressions;
using Distill.Methods;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// docs/methods/ against the registry: every registered method has a page whose options table names exactly the
/// registry's options, aliases and defaults (formatted as `distill methods` prints them), the page names the
/// official code with a commit and has the required sections, and docs/methods/README.md links every method.
/// </summary>
public sealed partial class MethodDocsTests
{
    private const string TableHeader = "| option | aliases | default | meaning |";

    private static readonly Lazy<string> MethodsFolder = new(FindMethodsFolder);

    public static TheoryData<string> MethodNames => [.. MethodFactory.Descriptors.Select(d => d.Name)];

    [Theory]
    [MemberData(nameof(MethodNames))]
    public void OptionsTable_ListsTheRegistrysOptionsAliasesAndDefaults(string name)
    {
        var descriptor = MethodFactory.Find(name)!;
        var (path, lines) = ReadPage(name);
        var rows = OptionRows(name, path, lines);

        var expected = descriptor.Options.Select(o => Line(o.Key, o.Aliases, o.FormatDefault())).ToArray();
        var actual = rows.Select(r => Line(r.Option, r.Aliases, r.Default)).ToArray();
        Assert.True(expected.SequenceEqual(actual),
            $"{path}: the options table of '{name}' differs from the registry (MethodFactory), as 'option | aliases | default':\n"
            + $"registry:\n  {string.Join("\n  ", expected)}\npage:\n  {string.Join("\n  ", actual)}");
    }

    [Theory]
    [MemberData(nameof(MethodNames))]
    public void Page_NamesTheOfficialCommit_AndHasTheRequiredSections(string name)
    {
        var (path, lines) = ReadPage(name);
        foreach (var heading in new[] { "## Official code", "## Options", "## Deliberate differences from the official code", "## Tests" })
        {
            Assert.True(lines.Contains(heading), $"{path}: no '{heading}' section");
        }

        var official = string.Join('\n', Section(lines, "## Official code"));
        Assert.True(CommitHash().IsMatch(official), $"{path}: the '## Official code' section names no 40-hex commit");
    }

    [Fact]
    public void Index_LinksEveryRegisteredMethodsPage()
    {
        var path = Path.Combine(MethodsFolder.Value, "README.md");
        var lines = File.ReadAllLines(path);
        foreach (var name in MethodFactory.Descriptors.Select(d => d.Name))
        {
            var page = PageFile(name);
            Assert.True(lines.Any(l => l.StartsWith($"| `{name}` |", StringComparison.Ordinal) && l.Contains($"]({page})", StringComparison.Ordinal)),
                $"{path}: no row '| `{name}` | ...' linking ({page})");
        }
    }

    [Fact]
    public void SourceComments_CiteTheRepositorysPages_NotSectionsOfAnOutsideSpec()
    {
        var src = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(MethodsFolder.Value))!, "src");
        var citing = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => x.line.Contains('§', StringComparison.Ordinal))
            .Select(x => $"{Path.GetRelativePath(src, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToArray();
        Assert.True(citing.Length == 0, "source comments cite '§' sections of a document outside the repository; cite docs/ pages instead:\n" + string.Join('\n', citing));
    }

    private static string Line(string option, IReadOnlyList<string> aliases, string defaultValue) =>
        $"{option} | {(aliases.Count == 0 ? "–" : string.Join(", ", aliases))} | {defaultValue}";

    /// <summary>The page of a registry name: docs/methods/&lt;name&gt;.md; a '+' variant shares its base's page (tfd+ -> tfd.md).</summary>
    private static string PageFile(string name) => name.TrimEnd('+') + ".md";

    private static (string Path, string[] Lines) ReadPage(string name)
    {
        var path = Path.Combine(MethodsFolder.Value, PageFile(name));
        Assert.True(File.Exists(path), $"method '{name}' has no page {path}");
        return (path, File.ReadAllLines(path));
    }

    /// <summary>
    /// The rows of the "## Options" table; where the section has "### `name`" sub-headings (a page shared by
    /// several registry names), the table under the method's own sub-heading.
    /// </summary>
    private static List<(string Option, string[] Aliases, string Default)> OptionRows(string name, string path, string[] lines)
    {
        var section = Section(lines, "## Options");
        Assert.True(section.Length > 0, $"{path}: no '## Options' section");
        if (section.Any(l => l.StartsWith("### ", StringComparison.Ordinal)))
        {
            section = Section(section, $"### `{name}`");
            Assert.True(section.Length > 0, $"{path}: the '## Options' section has sub-headings but none is '### `{name}`'");
        }

        var table = section.SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).ToArray();
        Assert.True(table.Length >= 2 && table[0] == TableHeader && SeparatorRow().IsMatch(table[1]),
            $"{path}: the options table of '{name}' must start with '{TableHeader}' and a separator row");
        Assert.True(section.SkipWhile(l => !l.StartsWith('|')).SkipWhile(l => l.StartsWith('|')).All(l => !l.StartsWith('|')),
            $"{path}: the options of '{name}' must be one table");

        return [.. table.Skip(2).Select(row =>
        {
            var cells = row.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.True(cells.Length == 4, $"{path}: options row '{row}' must have 4 cells (a '|' inside a cell is not allowed)");
            var aliases = cells[1] == "–" ? [] : cells[1].Split(',').Select(a => Code(path, row, a.Trim())).ToArray();
            return (Code(path, row, cells[0]), aliases, Code(path, row, cells[2]));
        })];
    }

    /// <summary>The text of a cell that is one code span, e.g. "`[1, 2]`" -> "[1, 2]".</summary>
    private static string Code(string path, string row, string cell)
    {
        Assert.True(cell.Length >= 2 && cell[0] == '`' && cell[^1] == '`' && cell.Count(c => c == '`') == 2,
            $"{path}: in options row '{row}', '{cell}' must be one code span (`...`); write an empty alias cell as '–'");
        return cell[1..^1];
    }

    /// <summary>The lines under <paramref name="heading"/> up to the next heading of the same or a higher level.</summary>
    private static string[] Section(string[] lines, string heading)
    {
        var start = Array.IndexOf(lines, heading);
        if (start < 0)
        {
            return [];
        }

        var level = heading.IndexOf(' ', StringComparison.Ordinal);
        return [.. lines.Skip(start + 1).TakeWhile(l => !(l.StartsWith('#') && l.IndexOf(' ', StringComparison.Ordinal) is var n && n > 0 && n <= level && l[..n].All(c => c == '#')))];
    }

    /// <summary>docs/methods of the repository the test assembly was built in (the first folder above it with Distill.slnx).</summary>
    private static string FindMethodsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Distill.slnx")))
            {
                return Path.Combine(dir.FullName, "docs", "methods");
            }
        }

        throw new InvalidOperationException($"no Distill.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^\|(\s*-+\s*\|){4}$")]
    private static partial Regex SeparatorRow();

    [GeneratedRegex(@"\b[0-9a-f]{40}\b")]
    private static partial Regex CommitHash();
}

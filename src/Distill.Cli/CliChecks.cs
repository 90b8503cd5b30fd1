using Distill.Configs;
using Distill.Tasks;

namespace Distill.Cli;

/// <summary>Checks of flag values that System.CommandLine's types do not make: each failure is a <see cref="ConfigException"/> naming the flag.</summary>
internal static class CliChecks
{
    /// <summary>The name when it is a model of the zoo (of any task).</summary>
    /// <exception cref="ConfigException">It is not.</exception>
    public static string Model(string flag, string name) =>
        TrainingTasks.OwnerOf(name) is not null
            ? name
            : throw new ConfigException($"{flag} '{name}' is not a model; models: {string.Join(", ", TrainingTasks.Models.Select(n => n.Name))} (see `distill models`)");

    /// <summary>The path when it is an existing file.</summary>
    /// <exception cref="ConfigException">It is missing or a folder.</exception>
    public static string ExistingFile(string flag, string path) =>
        File.Exists(path)
            ? path
            : throw new ConfigException(Directory.Exists(path) ? $"{flag} {path} is a folder, not a file" : $"{flag} {path}: no such file");

    /// <summary>A comma-separated list's entries, trimmed; an empty list or an empty entry is an error naming the flag.</summary>
    /// <exception cref="ConfigException">The list is empty or has an empty entry (e.g. "kd,,dkd").</exception>
    public static string[] List(string flag, string text)
    {
        var entries = text.Split(',', StringSplitOptions.TrimEntries);
        if (entries.All(e => e.Length == 0))
        {
            throw new ConfigException($"{flag} '{text}' names nothing; give comma-separated entries, e.g. {flag} kd,dkd");
        }

        if (entries.Any(e => e.Length == 0))
        {
            throw new ConfigException($"{flag} '{text}' has an empty entry; give comma-separated entries, e.g. {flag} kd,dkd");
        }

        return entries;
    }

    /// <summary>The path when it can be a run folder: not empty and not an existing file.</summary>
    /// <exception cref="ConfigException">It is empty or names a file.</exception>
    public static string OutputFolder(string flag, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ConfigException($"{flag} is empty; give a folder for the results");
        }

        for (var folder = Path.GetFullPath(path); !string.IsNullOrEmpty(folder); folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                throw new ConfigException(folder == Path.GetFullPath(path)
                    ? $"{flag} {path} is a file, not a folder; choose another folder"
                    : $"{flag} {path}: {folder} is a file, not a folder; choose another folder");
            }
        }

        return path;
    }

    /// <summary>Adds a validator: the option's value, when it parses as an integer, is at least <paramref name="minimum"/> (a value that does not parse is the parser's error).</summary>
    public static void AtLeast(System.CommandLine.Option option, int minimum) =>
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, System.Globalization.CultureInfo.InvariantCulture, out var value) && value < minimum)
            {
                r.AddError($"{option.Name} must be at least {minimum}");
            }
        });
}

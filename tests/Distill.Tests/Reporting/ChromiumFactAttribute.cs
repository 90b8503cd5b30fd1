using System.Diagnostics;
using Xunit;

namespace Distill.Tests.Reporting;

/// <summary>
/// A fact that needs Debian's chromium: when it is missing, eng/setup.sh chromium installs it (once per test run); the
/// test is skipped, with the reason, only when that fails (no root and no sudo, no package source).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Missing = new(Install);

    /// <summary>Creates the attribute, skipping the test when chromium cannot be had.</summary>
    public ChromiumFactAttribute()
    {
        if (Missing.Value is { } reason)
        {
            Skip = reason;
        }
    }

    /// <summary>The repository's root (the first folder above the test assembly with Distill.slnx).</summary>
    internal static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Distill.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Distill.slnx above {AppContext.BaseDirectory}");
    }

    private static bool OnPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "chromium")));

    private static string? Install()
    {
        if (OnPath())
        {
            return null;
        }

        using var setup = Process.Start(new ProcessStartInfo("bash", [Path.Combine(Root(), "eng", "setup.sh"), "chromium"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var log = setup.StandardError.ReadToEnd();
        setup.WaitForExit();
        return OnPath() ? null : $"chromium is not installed and `eng/setup.sh chromium` could not install it (exit {setup.ExitCode}): {log.Trim()}";
    }
}

using System.Diagnostics;
using Xunit;

namespace Distill.Tests.Reporting;

/// <summary>
/// report.html in a real browser: eng/check-report.sh opens it in headless chromium and checks that it logs no error,
/// renders every SVG figure the file holds and shows each section; and that the check fails on a page that does not.
/// </summary>
public sealed class ReportBrowserTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("distill-report-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private (int ExitCode, string Output) Check(string html, params string[] arguments)
    {
        var report = Path.Combine(_folder, "report.html");
        File.WriteAllText(report, html);
        var info = new ProcessStartInfo("bash", [Path.Combine(ChromiumFactAttribute.Root(), "eng", "check-report.sh"), report, .. arguments])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    [ChromiumFact]
    public void ThreeSeedClassificationReport_LoadsWithoutErrors_AndShowsEveryFigureAndSection()
    {
        var html = ReportFixtures.Render(seeds: 3);
        var figures = html.Split("<svg ").Length - 1;
        var shot = Path.Combine(_folder, "report.png");
        var (code, output) = Check(html, ["--screenshot", shot, "--height", "1200", .. ReportFixtures.SectionIds]);
        Assert.True(code == 0, output);
        Assert.StartsWith($"report ok: {figures} figures, sections {string.Join(' ', ReportFixtures.SectionIds)}", output, StringComparison.Ordinal);
        // A PNG was drawn: its signature and a size beyond an empty page's.
        var png = File.ReadAllBytes(shot);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [ChromiumFact]
    public void Check_Fails_OnAConsoleError_OrAMissingSection()
    {
        var html = ReportFixtures.Render(seeds: 1);
        var scripted = html.Replace("</body>", "<script>console.error('broken figure')</script></body>", StringComparison.Ordinal);
        var (code, output) = Check(scripted);
        Assert.Equal(1, code);
        Assert.Contains("logged errors in chromium", output, StringComparison.Ordinal);
        Assert.Contains("broken figure", output, StringComparison.Ordinal);

        (code, output) = Check(html, "no-such-section");
        Assert.Equal(1, code);
        Assert.Contains("has no section id=\"no-such-section\"", output, StringComparison.Ordinal);
    }
}

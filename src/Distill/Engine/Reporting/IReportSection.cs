using System.Text;

namespace Distill.Engine.Reporting;

/// <summary>
/// A part of report.html below the results table and the curves (per-class IoU, example predictions, ...): it appends
/// well-formed XHTML (inline SVG, images as data URIs, no scripts) so the report stays one self-contained file that
/// parses as XML.
/// </summary>
public interface IReportSection
{
    /// <summary>Appends the section's markup (an &lt;h2&gt; heading and its content) to <paramref name="xhtml"/>.</summary>
    void AppendTo(StringBuilder xhtml);
}

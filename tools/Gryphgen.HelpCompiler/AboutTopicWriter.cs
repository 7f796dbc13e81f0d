namespace Gryphgen.HelpCompiler;

/// <summary>
/// Turns an about_*.md page into the plain-text about_*.help.txt that Get-Help shows, as platyPS does:
/// headings become upper-case lines, body text is kept, markdown code fences are dropped.
/// </summary>
internal static class AboutTopicWriter
{
    public static string Write(string markdown)
    {
        var lines = new List<string>();
        var inFrontMatter = false;
        var first = true;
        foreach (var raw in markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.TrimEnd();
            if (first && line == "---")
            {
                inFrontMatter = true;
                first = false;
                continue;
            }

            first = false;
            if (inFrontMatter)
            {
                inFrontMatter = line != "---";
                continue;
            }

            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var heading = line.TrimStart('#').Trim();
                lines.Add(line.StartsWith("# ", StringComparison.Ordinal) ? heading : heading.ToUpperInvariant());
                continue;
            }

            lines.Add(line.Length > 0 ? "    " + line : line);
        }

        return string.Join('\n', lines).Trim() + "\n";
    }
}

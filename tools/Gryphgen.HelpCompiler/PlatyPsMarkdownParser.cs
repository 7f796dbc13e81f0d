using System.Text;
using Markdig;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Gryphgen.HelpCompiler;

/// <summary>
/// Reads a cmdlet page in platyPS 0.14's markdown schema: level-2 headings name the sections, level-3
/// headings name syntax sets, examples, parameters and types, and each parameter's facts sit in a yaml block.
/// </summary>
internal static class PlatyPsMarkdownParser
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

    public static CommandHelp Parse(string markdown, string sourceName)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        string? name = null;
        var sections = new Dictionary<string, List<Block>>(StringComparer.OrdinalIgnoreCase);
        List<Block>? current = null;
        foreach (var block in document)
        {
            if (block is YamlFrontMatterBlock)
            {
                continue;
            }

            if (block is HeadingBlock { Level: 1 } title)
            {
                name = InlineText(title.Inline).Trim();
                continue;
            }

            if (block is HeadingBlock { Level: 2 } section)
            {
                current = [];
                sections[InlineText(section.Inline).Trim()] = current;
                continue;
            }

            current?.Add(block);
        }

        if (string.IsNullOrEmpty(name))
        {
            throw new FormatException($"{sourceName}: no '# <Cmdlet>' title.");
        }

        List<Block> Section(string key) => sections.TryGetValue(key, out var blocks) ? blocks : [];

        return new CommandHelp(
            name,
            string.Join(" ", Paragraphs(Section("SYNOPSIS"), markdown)),
            Paragraphs(Section("DESCRIPTION"), markdown),
            ParseSyntax(Section("SYNTAX")),
            ParseExamples(Section("EXAMPLES"), markdown),
            ParseParameters(Section("PARAMETERS"), markdown, sourceName),
            ParseTypes(Section("INPUTS"), markdown),
            ParseTypes(Section("OUTPUTS"), markdown),
            Paragraphs(Section("NOTES"), markdown),
            ParseLinks(Section("RELATED LINKS")));
    }

    private static List<SyntaxSet> ParseSyntax(List<Block> blocks) =>
        blocks.OfType<HeadingBlock>()
            .Select(h => InlineText(h.Inline).Trim())
            .Select(t => t.EndsWith("(Default)", StringComparison.Ordinal)
                ? new SyntaxSet(t[..^"(Default)".Length].Trim(), true)
                : new SyntaxSet(t, false))
            .ToList();

    private static List<ExampleHelp> ParseExamples(List<Block> blocks, string markdown)
    {
        var examples = new List<ExampleHelp>();
        foreach (var (heading, body) in SplitByLevel3(blocks))
        {
            // A blank line between the code and its Output block, as platyPS writes them, so Get-Help shows where
            // the commands end and their output begins.
            var code = string.Join(Environment.NewLine + Environment.NewLine, body.OfType<FencedCodeBlock>().Select(CodeText));
            var remarks = Paragraphs(body.Where(b => b is not FencedCodeBlock).ToList(), markdown);
            examples.Add(new ExampleHelp(heading, code, remarks));
        }

        return examples;
    }

    private static List<ParameterHelp> ParseParameters(List<Block> blocks, string markdown, string sourceName)
    {
        var parameters = new List<ParameterHelp>();
        foreach (var (heading, body) in SplitByLevel3(blocks))
        {
            if (!heading.StartsWith('-'))
            {
                continue; // "### CommonParameters" carries only boilerplate text.
            }

            var yamlBlock = body.OfType<FencedCodeBlock>().FirstOrDefault(b => b.Info == "yaml")
                ?? throw new FormatException($"{sourceName}: parameter {heading} has no yaml block.");
            var facts = ParameterFacts(CodeText(yamlBlock));
            string Fact(string key, string fallback) =>
                facts.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : fallback;

            parameters.Add(new ParameterHelp(
                heading[1..],
                Paragraphs(body.Where(b => b is not FencedCodeBlock).ToList(), markdown),
                Fact("Type", "Object"),
                Fact("Parameter Sets", "(All)").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Fact("Aliases", "none"),
                bool.TryParse(Fact("Required", "False"), out var required) && required,
                Fact("Position", "Named"),
                Fact("Default value", "None"),
                Fact("Accept pipeline input", "False"),
                bool.TryParse(Fact("Accept wildcard characters", "False"), out var globbing) && globbing));
        }

        return parameters;
    }

    /// <summary>
    /// platyPS calls these blocks yaml, but they are "Key: value" lines whose values are not YAML ("Default
    /// value: *" would be a YAML alias), and platyPS itself reads them line by line; so do we.
    /// </summary>
    private static Dictionary<string, string?> ParameterFacts(string block)
    {
        var facts = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in block.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                facts[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        return facts;
    }

    private static List<TypeHelp> ParseTypes(List<Block> blocks, string markdown) =>
        SplitByLevel3(blocks).Select(s => new TypeHelp(s.Heading, Paragraphs(s.Body, markdown))).ToList();

    private static List<LinkHelp> ParseLinks(List<Block> blocks)
    {
        var links = new List<LinkHelp>();
        foreach (var paragraph in blocks.OfType<ParagraphBlock>())
        {
            foreach (var link in paragraph.Inline?.Descendants<LinkInline>() ?? [])
            {
                links.Add(new LinkHelp(InlineText(link), link.Url ?? string.Empty));
            }
        }

        foreach (var list in blocks.OfType<ListBlock>())
        {
            foreach (var link in list.Descendants<LinkInline>())
            {
                links.Add(new LinkHelp(InlineText(link), link.Url ?? string.Empty));
            }
        }

        return links;
    }

    private static IEnumerable<(string Heading, List<Block> Body)> SplitByLevel3(List<Block> blocks)
    {
        string? heading = null;
        var body = new List<Block>();
        foreach (var block in blocks)
        {
            if (block is HeadingBlock { Level: 3 } h)
            {
                if (heading is not null)
                {
                    yield return (heading, body);
                }

                heading = InlineText(h.Inline).Trim();
                body = [];
            }
            else if (heading is not null)
            {
                body.Add(block);
            }
        }

        if (heading is not null)
        {
            yield return (heading, body);
        }
    }

    /// <summary>Paragraph and list text as it was written, one entry per block, so MAML keeps the breaks.</summary>
    private static List<string> Paragraphs(List<Block> blocks, string markdown)
    {
        var paragraphs = new List<string>();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case ParagraphBlock or ListBlock or QuoteBlock:
                    paragraphs.Add(markdown.Substring(block.Span.Start, block.Span.Length).Trim());
                    break;
                case FencedCodeBlock code:
                    paragraphs.Add(CodeText(code));
                    break;
            }
        }

        return paragraphs;
    }

    private static string CodeText(LeafBlock block)
    {
        var text = new StringBuilder();
        foreach (var line in block.Lines.Lines.Take(block.Lines.Count))
        {
            text.AppendLine(line.ToString());
        }

        return text.ToString().TrimEnd();
    }

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null)
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        foreach (var child in inline.Descendants<Inline>())
        {
            switch (child)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
            }
        }

        return text.ToString();
    }
}

using System.Xml.Linq;

namespace Gryphgen.HelpCompiler;

/// <summary>Writes the MAML that PowerShell's Get-Help reads for binary cmdlets (&lt;assembly&gt;.dll-Help.xml).</summary>
internal static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XDocument Write(IEnumerable<CommandHelp> commands) =>
        new(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(
                Msh + "helpItems",
                new XAttribute("schema", "maml"),
                commands.Select(WriteCommand)));

    private static XElement WriteCommand(CommandHelp help)
    {
        var dash = help.Name.IndexOf('-', StringComparison.Ordinal);
        return new XElement(
            Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(
                Command + "details",
                new XElement(Command + "name", help.Name),
                new XElement(Command + "verb", dash > 0 ? help.Name[..dash] : help.Name),
                new XElement(Command + "noun", dash > 0 ? help.Name[(dash + 1)..] : string.Empty),
                Description([help.Synopsis])),
            Description(help.Description),
            new XElement(Command + "syntax", SyntaxSets(help).Select(set => SyntaxItem(help, set))),
            new XElement(Command + "parameters", help.Parameters.Select(p => Parameter(p, includeDescription: true))),
            new XElement(Command + "inputTypes", help.Inputs.Select(t => TypeEntry(Command + "inputType", t))),
            new XElement(Command + "returnValues", help.Outputs.Select(t => TypeEntry(Command + "returnValue", t))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paras(help.Notes))),
            new XElement(Command + "examples", help.Examples.Select(Example)),
            new XElement(
                Command + "relatedLinks",
                help.RelatedLinks.Select(l => new XElement(
                    Maml + "navigationLink",
                    new XElement(Maml + "linkText", l.Text),
                    new XElement(Maml + "uri", l.Uri)))));
    }

    private static IEnumerable<SyntaxSet> SyntaxSets(CommandHelp help) =>
        help.Syntax.Count > 0 ? help.Syntax : [new SyntaxSet("__AllParameterSets", true)];

    private static XElement SyntaxItem(CommandHelp help, SyntaxSet set) =>
        new(
            Command + "syntaxItem",
            new XElement(Maml + "name", help.Name),
            help.Parameters
                .Where(p => help.Syntax.Count == 0 || p.InSet(set.Name))
                .OrderBy(p => int.TryParse(p.Position, out var position) ? position : int.MaxValue)
                .Select(p => Parameter(p, includeDescription: false)));

    private static XElement Parameter(ParameterHelp parameter, bool includeDescription) =>
        new(
            Command + "parameter",
            new XAttribute("required", parameter.Required ? "true" : "false"),
            new XAttribute("variableLength", parameter.Type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"),
            new XAttribute("globbing", parameter.Globbing ? "true" : "false"),
            new XAttribute("pipelineInput", parameter.PipelineInput),
            new XAttribute("position", string.Equals(parameter.Position, "named", StringComparison.OrdinalIgnoreCase) ? "named" : parameter.Position),
            new XAttribute("aliases", parameter.Aliases),
            new XElement(Maml + "name", parameter.Name),
            includeDescription ? Description(parameter.Description) : Description([]),
            parameter.IsSwitch
                ? null
                : new XElement(
                    Command + "parameterValue",
                    new XAttribute("required", "true"),
                    new XAttribute("variableLength", "false"),
                    parameter.Type),
            new XElement(Dev + "type", new XElement(Maml + "name", parameter.Type), new XElement(Maml + "uri")),
            new XElement(Dev + "defaultValue", parameter.DefaultValue));

    private static XElement TypeEntry(XName name, TypeHelp type) =>
        new(
            name,
            new XElement(Dev + "type", new XElement(Maml + "name", type.Name)),
            Description(type.Description));

    private static XElement Example(ExampleHelp example, int index) =>
        new(
            Command + "example",
            new XElement(Maml + "title", $"-------------------------- {example.Title} --------------------------"),
            new XElement(Dev + "code", example.Code),
            new XElement(Dev + "remarks", Paras(example.Remarks)));

    private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", Paras(paragraphs));

    private static IEnumerable<XElement> Paras(IEnumerable<string> paragraphs) =>
        paragraphs.Select(p => new XElement(Maml + "para", p));
}

namespace Gryphgen.HelpCompiler;

/// <summary>One cmdlet's help as platyPS 0.14 markdown describes it.</summary>
internal sealed record CommandHelp(
    string Name,
    string Synopsis,
    IReadOnlyList<string> Description,
    IReadOnlyList<SyntaxSet> Syntax,
    IReadOnlyList<ExampleHelp> Examples,
    IReadOnlyList<ParameterHelp> Parameters,
    IReadOnlyList<TypeHelp> Inputs,
    IReadOnlyList<TypeHelp> Outputs,
    IReadOnlyList<string> Notes,
    IReadOnlyList<LinkHelp> RelatedLinks);

internal sealed record SyntaxSet(string Name, bool IsDefault);

internal sealed record ExampleHelp(string Title, string Code, IReadOnlyList<string> Remarks);

internal sealed record ParameterHelp(
    string Name,
    IReadOnlyList<string> Description,
    string Type,
    IReadOnlyList<string> ParameterSets,
    string Aliases,
    bool Required,
    string Position,
    string DefaultValue,
    string PipelineInput,
    bool Globbing)
{
    public bool IsSwitch => Type is "SwitchParameter" or "System.Management.Automation.SwitchParameter";

    public bool InSet(string set) =>
        ParameterSets.Any(s => s == "(All)" || string.Equals(s, set, StringComparison.OrdinalIgnoreCase));
}

internal sealed record TypeHelp(string Name, IReadOnlyList<string> Description);

internal sealed record LinkHelp(string Text, string Uri);

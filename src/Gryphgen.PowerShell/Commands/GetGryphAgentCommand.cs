using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Agents;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Lists the agents running in this pwsh process: endpoint, backend, state, messages handled, last error, and a
/// supervised llama-server's pid, port, state and memory. A name without wildcards that no agent serves is a
/// GryphAgentNotFound error, as Get-GryphPipe does for an endpoint.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GryphAgent")]
[OutputType(typeof(GryphAgent))]
public sealed class GetGryphAgentCommand : GryphCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var agents = AgentRegistry.All;
        WriteObject(Matching(agents, Name, a => a.Name), enumerateCollection: true);
        foreach (var literal in (Name ?? []).Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
        {
            if (!agents.Any(a => string.Equals(a.Name, literal, StringComparison.OrdinalIgnoreCase)))
            {
                WriteGryphError(new GryphgenException("GryphAgentNotFound", GryphgenErrorKind.NotFound,
                    $"No agent serves '{literal}' in this process (Get-GryphAgent lists those that run; Start-GryphAgent starts one).", literal));
            }
        }
    }
}

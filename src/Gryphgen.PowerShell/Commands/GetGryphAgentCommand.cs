using System.Management.Automation;
using Gryphgen.Core.Agents;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Lists the agents running in this pwsh process: endpoint, backend, state, messages handled, last error.</summary>
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
        WriteObject(Matching(AgentRegistry.All, Name, a => a.Name), enumerateCollection: true);
    }
}

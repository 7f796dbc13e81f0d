using System.Management.Automation;
using Gryphgen.Core.Agents;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Lists the agents running in this pwsh process: endpoint, backend, state, messages handled, last error.</summary>
[Cmdlet(VerbsCommon.Get, "GryphAgent")]
[OutputType(typeof(GryphAgent))]
public sealed class GetGryphAgentCommand : GryphCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = (Name ?? ["*"]).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var agent in AgentRegistry.All.Where(a => patterns.Any(p => p.IsMatch(a.Name))))
        {
            WriteObject(agent);
        }
    }
}

using System.Management.Automation;
using Gryphgen.Core.Bus;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Lists the bridges running in this pwsh process: endpoint, state, messages relayed each way, last error.</summary>
[Cmdlet(VerbsCommon.Get, "GryphBridge")]
[OutputType(typeof(GryphBridge))]
public sealed class GetGryphBridgeCommand : GryphCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = (Name ?? ["*"]).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var bridge in BridgeRegistry.All.Where(b => patterns.Any(p => p.IsMatch(b.Name))))
        {
            WriteObject(bridge);
        }
    }
}

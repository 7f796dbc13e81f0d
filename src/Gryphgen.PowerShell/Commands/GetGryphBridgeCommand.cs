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
        WriteObject(Matching(BridgeRegistry.All, Name, b => b.Name), enumerateCollection: true);
    }
}

using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Stops bridges of this process. Messages not yet written locally stay on the bus for the next bridge.</summary>
[Cmdlet(VerbsLifecycle.Stop, "GryphBridge", SupportsShouldProcess = true)]
[OutputType(typeof(GryphBridge))]
public sealed class StopGryphBridgeCommand : GryphCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForEachNamed(
        Name,
        () => BridgeRegistry.All,
        b => b.Name,
        name => new GryphgenException("GryphBridgeNotFound", GryphgenErrorKind.NotFound, $"No bridge relays '{name}' in this process (Get-GryphBridge lists them).", name),
        bridge =>
        {
            if (!ShouldProcess(bridge.Name, "Stop bridge"))
            {
                return;
            }

            bridge.Dispose();
            BridgeRegistry.Remove(bridge);
            if (PassThru)
            {
                WriteObject(bridge);
            }
        });
}

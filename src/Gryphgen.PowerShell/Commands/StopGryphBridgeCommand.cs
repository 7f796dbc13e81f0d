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

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var bridges = BridgeRegistry.All.Where(b => pattern.IsMatch(b.Name)).ToArray();
            if (bridges.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteGryphError(new GryphgenException("GryphBridgeNotFound", GryphgenErrorKind.NotFound,
                    $"No bridge relays '{name}' in this process (Get-GryphBridge lists them).", name));
                continue;
            }

            foreach (var bridge in bridges)
            {
                if (!ShouldProcess(bridge.Name, "Stop bridge"))
                {
                    continue;
                }

                bridge.Dispose();
                BridgeRegistry.Remove(bridge);
                if (PassThru)
                {
                    WriteObject(bridge);
                }
            }
        }
    }
}

using System.Management.Automation;
using Gryphgen.Core.Bus;
using Gryphgen.PowerShell.Bus;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Closes a bus connection: the session's, or the one given. Endpoints then are this machine's pipes again.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "GryphBus")]
[OutputType(typeof(void))]
public sealed class DisconnectGryphBusCommand : GryphCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public GryphBus? Bus { get; set; }

    protected override void ProcessRecord()
    {
        var bus = Bus ?? BusSession.Current;
        if (bus is null)
        {
            WriteVerbose("Not connected to a bus; nothing to close.");
            return;
        }

        if (ReferenceEquals(bus, BusSession.Current))
        {
            BusSession.Current = null;
        }

        bus.Dispose();
        WriteVerbose($"Closed the bus connection to {bus}.");
    }
}

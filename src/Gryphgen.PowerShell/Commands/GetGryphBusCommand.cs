using System.Management.Automation;
using Gryphgen.Core.Bus;
using Gryphgen.PowerShell.Bus;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Shows the session's bus connection (servers, namespace, state, server, authentication kind, TLS); nothing when not connected.</summary>
[Cmdlet(VerbsCommon.Get, "GryphBus")]
[OutputType(typeof(GryphBus))]
public sealed class GetGryphBusCommand : GryphCmdlet
{
    protected override void EndProcessing()
    {
        if (BusSession.Current is { } bus)
        {
            WriteObject(bus);
        }
        else
        {
            WriteVerbose("Not connected to a bus. Connect with Connect-GryphBus.");
        }
    }
}

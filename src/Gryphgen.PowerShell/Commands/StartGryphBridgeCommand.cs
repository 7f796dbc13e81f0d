using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Relays a local FIFO endpoint to the bus and back on background threads of this pwsh process, so the shell and
/// Perl peers of this host reach agents on other hosts: what local peers write to the FIFO goes to the bus
/// endpoint of the same name, and bus messages for the local senders come back into their FIFOs.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GryphBridge", SupportsShouldProcess = true)]
[OutputType(typeof(GryphBridge))]
public sealed class StartGryphBridgeCommand : MessagingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string Name { get; set; } = string.Empty;

    [Parameter]
    public SwitchParameter Raw { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RawSender { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string[] Return { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ActiveBus is not { } bus)
        {
            ThrowGryphError(new GryphgenException("GryphBusNotConnected", GryphgenErrorKind.ResourceUnavailable,
                "A bridge needs a bus: connect with Connect-GryphBus, or pass -Bus.", Name));
            return;
        }

        if (RawSender is not null && !Raw)
        {
            ThrowGryphError(new GryphgenException("GryphBridgeRawSenderWithoutRaw", GryphgenErrorKind.InvalidArgument,
                "-RawSender names who plain lines come from; it needs -Raw.", RawSender));
        }

        if (BridgeRegistry.IsRunning(Name))
        {
            WriteGryphError(new GryphgenException("GryphBridgeAlreadyRunning", GryphgenErrorKind.ResourceExists,
                $"A bridge already relays '{Name}' in this process. Stop it first with Stop-GryphBridge -Name {Name}.", Name));
            return;
        }

        try
        {
            var directory = PipeDirectory.Ensure(PipeDirectoryPath, AllowShared);
            if (!ShouldProcess($"{PipeDirectory.EndpointPath(directory, Name)} <-> {bus.Transport.Locate(Name)}", "Start bridge"))
            {
                return;
            }

            var options = new BridgeOptions
            {
                Name = Name,
                PipeDirectory = directory,
                AllowShared = AllowShared,
                Raw = Raw,
                RawSender = RawSender,
                Returns = Return,
                LogPath = LogPath is null ? Path.Combine(directory, Name + ".bridge.log") : GetUnresolvedProviderPathFromPSPath(LogPath),
            };
            var bridge = GryphBridge.Start(options, bus);
            if (!BridgeRegistry.TryAdd(bridge))
            {
                bridge.Dispose();
                throw new GryphgenException("GryphBridgeAlreadyRunning", GryphgenErrorKind.ResourceExists, $"A bridge already relays '{Name}' in this process.", Name);
            }

            WriteVerbose($"Bridge {Name}: {bridge.LocalPath} <-> {bridge.Subject}; log: {options.LogPath}");
            WriteObject(bridge);
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }
}

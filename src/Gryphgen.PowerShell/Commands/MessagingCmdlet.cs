using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.PowerShell.Bus;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// What the endpoint cmdlets share: where endpoints live (the private pipe directory, or the bus of
/// Connect-GryphBus, or -Bus for one call), -AllowShared, and logging to -Verbose and -LogPath.
/// </summary>
public abstract class MessagingCmdlet : GryphCmdlet
{
    private GryphLog? _log;

    /// <summary>Trust pipes and directories owned by others or writable by group or others.</summary>
    [Parameter]
    public SwitchParameter AllowShared { get; set; }

    /// <summary>Appends "[ISO-8601 UTC] [LEVEL] message" lines to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    /// <summary>The bus connection for this call, instead of the session's (Connect-GryphBus -PassThru).</summary>
    [Parameter]
    [ValidateNotNull]
    public GryphBus? Bus { get; set; }

    /// <summary>Endpoints in this machine's pipe directory even while the session is connected to a bus.</summary>
    [Parameter]
    public SwitchParameter Local { get; set; }

    /// <summary>
    /// Writes to -Verbose (on the pipeline thread, where the core calls it) and the log file. With neither
    /// asked for, the core is given no sink at all, so a hot send loop formats no log text.
    /// </summary>
    protected GryphLog Log => _log ??= new GryphLog(
        VerboseWanted ? (level, text) => { if (level != GryphLogLevel.Debug) { WriteVerbose(text); } } : null,
        LogPath is null ? null : GetUnresolvedProviderPathFromPSPath(LogPath));

    private bool VerboseWanted =>
        MyInvocation.BoundParameters.TryGetValue("Verbose", out var verbose)
            ? verbose is SwitchParameter { IsPresent: true }
            : GetVariableValue("VerbosePreference") is ActionPreference preference && preference != ActionPreference.SilentlyContinue;

    protected static string PipeDirectoryPath => PipeDirectory.Resolve();

    /// <summary>The bus endpoints of this call go to: -Bus, else the session's connection; null for local FIFOs.</summary>
    protected GryphBus? ActiveBus
    {
        get
        {
            if (Local)
            {
                if (Bus is not null)
                {
                    ThrowGryphError(new GryphgenException("GryphTransportConflict", GryphgenErrorKind.InvalidArgument,
                        "-Local and -Bus contradict each other: choose the pipe directory or a bus."));
                }

                return null;
            }

            var bus = Bus ?? BusSession.Current;
            if (bus is { State: GryphBusState.Closed })
            {
                ThrowGryphError(new GryphgenException("GryphBusNotConnected", GryphgenErrorKind.ResourceUnavailable,
                    "The bus connection is closed. Connect again with Connect-GryphBus, or use -Local for this machine's pipes."));
            }

            return bus;
        }
    }

    /// <summary>Where named endpoints live for this call.</summary>
    protected IMessageTransport EndpointTransport =>
        ActiveBus is { } bus ? bus.Transport : new FifoTransport(PipeDirectory.Ensure(PipeDirectoryPath, AllowShared), AllowShared);

    protected string ResolveEndpoint(string name) =>
        PipeDirectory.EndpointPath(PipeDirectory.Ensure(PipeDirectoryPath, AllowShared), name);

    protected string ResolvePath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>-TimeoutSeconds as a deadline; 0 or less waits for ever.</summary>
    protected static Deadline DeadlineFrom(double timeoutSeconds) =>
        timeoutSeconds <= 0 ? Deadline.Infinite : Deadline.After(TimeSpan.FromSeconds(timeoutSeconds));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _log?.Dispose();
        }

        base.Dispose(disposing);
    }
}

using System.Management.Automation;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.PowerShell.Commands;

/// <summary>What the pipe cmdlets share: the pipe directory, -AllowShared, and logging to -Verbose and -LogPath.</summary>
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

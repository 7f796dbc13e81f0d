using System.Management.Automation;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Base of every Gryphgen cmdlet. PowerShell calls <see cref="StopProcessing"/> on another thread when the
/// user presses Ctrl+C; cancelling <see cref="CancellationToken"/> there lets every wait in the core return
/// promptly instead of leaving a thread blocked in a system call.
/// </summary>
public abstract class GryphCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private bool _disposed;

    /// <summary>Cancelled when the pipeline is stopped.</summary>
    protected CancellationToken CancellationToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Writes a non-terminating error for one bad item, so the rest of the input goes on.</summary>
    protected void WriteItemError(Exception exception, string errorId, ErrorCategory category, object? target)
        => WriteError(new ErrorRecord(exception, errorId, category, target));

    /// <summary>Stops the whole call: used only when nothing more can be done.</summary>
    protected void ThrowTerminating(Exception exception, string errorId, ErrorCategory category, object? target)
        => ThrowTerminatingError(new ErrorRecord(exception, errorId, category, target));

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        if (disposing)
        {
            _stopping.Dispose();
        }

        _disposed = true;
    }
}

using System.Management.Automation;
using Gryphgen.Core;

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

    /// <summary>Writes a core failure as a non-terminating error with its stable id, category and target.</summary>
    protected void WriteGryphError(GryphgenException exception) =>
        WriteError(ToErrorRecord(exception));

    /// <summary>Stops the whole call with a core failure.</summary>
    protected void ThrowGryphError(GryphgenException exception) =>
        ThrowTerminatingError(ToErrorRecord(exception));

    internal static ErrorRecord ToErrorRecord(GryphgenException exception) =>
        new(exception, exception.ErrorId, ToCategory(exception.Kind), exception.Target);

    internal static ErrorCategory ToCategory(GryphgenErrorKind kind) => kind switch
    {
        GryphgenErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        GryphgenErrorKind.InvalidData => ErrorCategory.InvalidData,
        GryphgenErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        GryphgenErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        GryphgenErrorKind.Timeout => ErrorCategory.OperationTimeout,
        GryphgenErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        GryphgenErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        GryphgenErrorKind.LimitExceeded => ErrorCategory.LimitsExceeded,
        GryphgenErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        GryphgenErrorKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        GryphgenErrorKind.SecurityError => ErrorCategory.SecurityError,
        GryphgenErrorKind.ConnectionFailed => ErrorCategory.ConnectionError,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>The items whose name matches any of <paramref name="patterns"/> (wildcards, case-insensitive); all when null.</summary>
    protected static IEnumerable<T> Matching<T>(IEnumerable<T> items, IEnumerable<string>? patterns, Func<T, string> nameOf)
    {
        var wildcards = (patterns ?? ["*"]).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        return items.Where(item => wildcards.Any(w => w.IsMatch(nameOf(item))));
    }

    /// <summary>
    /// Runs <paramref name="act"/> on the items each name matches; a literal name that matches nothing is a
    /// non-terminating error from <paramref name="notFound"/>, a wildcard that matches nothing is not.
    /// </summary>
    protected void ForEachNamed<T>(IEnumerable<string> names, Func<IReadOnlyList<T>> items, Func<T, string> nameOf, Func<string, GryphgenException> notFound, Action<T> act)
    {
        foreach (var name in names)
        {
            var matched = Matching(items(), [name], nameOf).ToArray();
            if (matched.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteGryphError(notFound(name));
                continue;
            }

            foreach (var item in matched)
            {
                act(item);
            }
        }
    }

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

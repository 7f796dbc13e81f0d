namespace Gryphgen.Core;

/// <summary>What kind of failure a <see cref="GryphgenException"/> is, so front ends can pick an error category.</summary>
public enum GryphgenErrorKind
{
    InvalidArgument,
    InvalidData,
    NotFound,
    PermissionDenied,
    Timeout,
    ResourceExists,
    ResourceUnavailable,
    LimitExceeded,
    OperationStopped,
    AuthenticationFailed,
    SecurityError,
    ConnectionFailed,
}

/// <summary>
/// A failure the user can act on. <see cref="ErrorId"/> is stable across releases (scripts may match on it) and
/// <see cref="Target"/> names the thing that was wrong: a path, an endpoint, a message id.
/// </summary>
public class GryphgenException : Exception
{
    public GryphgenException(string errorId, GryphgenErrorKind kind, string message, string? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public GryphgenException()
        : this("Unknown", GryphgenErrorKind.InvalidData, "Unknown Gryphgen error.")
    {
    }

    public GryphgenException(string message)
        : this("Unknown", GryphgenErrorKind.InvalidData, message)
    {
    }

    public GryphgenException(string message, Exception innerException)
        : this("Unknown", GryphgenErrorKind.InvalidData, message, null, innerException)
    {
    }

    public string ErrorId { get; }

    public GryphgenErrorKind Kind { get; }

    public string? Target { get; }
}

namespace Gryphgen.Core.Agents;

/// <summary>
/// The stable kinds of backend failure an agent reports in the "error" metadata of its error replies, so a
/// peer can match on them across releases.
/// </summary>
public static class ChatErrorKind
{
    /// <summary>The server could not be reached (connection refused, DNS, reset).</summary>
    public const string BackendUnavailable = "BackendUnavailable";

    /// <summary>The model file (or the model on the server) does not exist.</summary>
    public const string ModelNotFound = "ModelNotFound";

    /// <summary>The server answered with an HTTP error status (e.g. 429, 500); "httpStatus" metadata holds it.</summary>
    public const string HttpError = "HttpError";

    /// <summary>The backend did not answer within its timeout.</summary>
    public const string Timeout = "Timeout";

    /// <summary>The server's answer was not a chat-completions response.</summary>
    public const string InvalidResponse = "InvalidResponse";

    /// <summary>The generation was cancelled because the agent was stopped.</summary>
    public const string Cancelled = "Cancelled";

    /// <summary>Anything else the backend threw (a script error, a model that fails to load).</summary>
    public const string BackendFailed = "BackendFailed";
}

/// <summary>A backend failure with a stable <see cref="ChatErrorKind"/> and, for HTTP errors, the status code.</summary>
public sealed class ChatBackendException : GryphgenException
{
    public ChatBackendException(string errorKind, string message, int? httpStatus = null, Exception? inner = null)
        : base(ErrorIdFor(errorKind), ToGryphKind(errorKind), message, null, inner)
    {
        ErrorKind = errorKind;
        HttpStatus = httpStatus;
    }

    public ChatBackendException()
        : this(ChatErrorKind.BackendFailed, "The chat backend failed.")
    {
    }

    public ChatBackendException(string message)
        : this(ChatErrorKind.BackendFailed, message)
    {
    }

    public ChatBackendException(string message, Exception innerException)
        : this(ChatErrorKind.BackendFailed, message, null, innerException)
    {
    }

    /// <summary>One of the <see cref="ChatErrorKind"/> constants.</summary>
    public string ErrorKind { get; }

    public int? HttpStatus { get; }

    /// <summary>GryphAgentBackend + the kind, without saying "Backend" twice: GryphAgentBackendFailed, GryphAgentBackendModelNotFound.</summary>
    public static string ErrorIdFor(string errorKind) =>
        errorKind.StartsWith("Backend", StringComparison.Ordinal) ? "GryphAgent" + errorKind : "GryphAgentBackend" + errorKind;

    private static GryphgenErrorKind ToGryphKind(string errorKind) => errorKind switch
    {
        ChatErrorKind.ModelNotFound => GryphgenErrorKind.NotFound,
        ChatErrorKind.Timeout => GryphgenErrorKind.Timeout,
        ChatErrorKind.Cancelled => GryphgenErrorKind.OperationStopped,
        ChatErrorKind.InvalidResponse => GryphgenErrorKind.InvalidData,
        _ => GryphgenErrorKind.ResourceUnavailable,
    };
}

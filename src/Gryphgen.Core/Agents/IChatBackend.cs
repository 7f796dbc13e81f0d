namespace Gryphgen.Core.Agents;

/// <summary>
/// Something that answers a conversation: a script, an OpenAI-compatible server, or a model loaded in-process.
/// An agent calls it for one message at a time; a failure is a <see cref="ChatBackendException"/>.
/// </summary>
public interface IChatBackend : IDisposable
{
    /// <summary>A short description for Get-GryphAgent and reply metadata, e.g. "openai:llama3 @ http://127.0.0.1:8080".</summary>
    string Description { get; }

    /// <summary>Answers <paramref name="history"/>, whose last turn is the message to answer; honours <paramref name="cancellationToken"/> promptly.</summary>
    Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken);
}

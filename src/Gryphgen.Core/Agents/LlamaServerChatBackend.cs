namespace Gryphgen.Core.Agents;

/// <summary>
/// A backend that owns a supervised llama-server and talks to it through <see cref="OpenAIChatBackend"/>. While
/// the server restarts, a message gets a BackendUnavailable error reply; once it has failed, the reply quotes why.
/// Disposing the backend stops the server.
/// </summary>
public sealed class LlamaServerChatBackend : IChatBackend
{
    private readonly string _model;
    private readonly Func<Uri, OpenAIChatBackend> _client;
    private OpenAIChatBackend? _current;

    public LlamaServerChatBackend(LlamaServerProcess server, string model, Func<Uri, OpenAIChatBackend> client)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(client);
        Server = server;
        _model = model;
        _client = client;
    }

    public LlamaServerProcess Server { get; }

    public string Description => $"llama-server:{_model} @ {Server.BaseUri}";

    public async Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        switch (Server.State)
        {
            case LlamaServerState.Failed:
                throw new ChatBackendException(ChatErrorKind.BackendUnavailable, Server.FailureMessage ?? "llama-server failed.");
            case LlamaServerState.Stopped:
                throw new ChatBackendException(ChatErrorKind.BackendUnavailable, "llama-server was stopped.");
            case LlamaServerState.Restarting or LlamaServerState.Starting:
                throw new ChatBackendException(ChatErrorKind.BackendUnavailable,
                    $"llama-server is starting again after it exited with code {Server.LastExitCode} (restart {Server.Restarts}); try again shortly.");
        }

        return await ClientFor(Server.BaseUri).CompleteAsync(history, cancellationToken).ConfigureAwait(false);
    }

    private OpenAIChatBackend ClientFor(Uri baseUri)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && current.BaseUri == baseUri)
        {
            return current;
        }

        // A restart may have moved the server to another port.
        var fresh = _client(baseUri);
        Interlocked.Exchange(ref _current, fresh)?.Dispose();
        return fresh;
    }

    public void Dispose()
    {
        Server.Dispose();
        Interlocked.Exchange(ref _current, null)?.Dispose();
    }
}

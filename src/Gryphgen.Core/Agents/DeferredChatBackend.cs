namespace Gryphgen.Core.Agents;

/// <summary>
/// A local-model backend that is made on first use, so starting an agent is quick and the companion assembly
/// with llama.cpp loads only when a message arrives. A missing model file is a ModelNotFound error reply, and
/// the next message tries again (the file may have been copied in meanwhile).
/// </summary>
public sealed class DeferredChatBackend : IChatBackend
{
    private readonly Func<IChatBackend> _factory;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private IChatBackend? _inner;

    public DeferredChatBackend(string modelPath, string description, Func<IChatBackend> factory)
    {
        ModelPath = modelPath;
        Description = description;
        _factory = factory;
    }

    public string ModelPath { get; }

    public string Description { get; }

    public async Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        var inner = Volatile.Read(ref _inner);
        if (inner is null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                inner = _inner;
                if (inner is null)
                {
                    if (!File.Exists(ModelPath))
                    {
                        throw new ChatBackendException(ChatErrorKind.ModelNotFound, $"The model file '{ModelPath}' does not exist.");
                    }

                    try
                    {
                        inner = _factory();
                    }
                    catch (Exception ex) when (ex is not ChatBackendException and not OutOfMemoryException)
                    {
                        throw new ChatBackendException(ChatErrorKind.BackendFailed, $"Loading '{ModelPath}' failed: {ex.Message}", null, ex);
                    }

                    Volatile.Write(ref _inner, inner);
                }
            }
            finally
            {
                _loading.Release();
            }
        }

        return await inner.CompleteAsync(history, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _inner, null)?.Dispose();
        _loading.Dispose();
    }
}

using System.Diagnostics;
using System.Globalization;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Agents;

public enum GryphAgentState
{
    Running,
    Stopping,
    Stopped,
    Failed,
}

/// <summary>
/// A responder that serves one endpoint on a background thread: it reads the inbox, keeps a bounded history
/// per peer, asks its backend for an answer, and replies to the sender with ReplyTo set. A backend failure
/// becomes an error reply (metadata "error" holds a <see cref="ChatErrorKind"/>) and the agent goes on.
/// </summary>
public sealed class GryphAgent : IDisposable
{
    /// <summary>Metadata keys of replies.</summary>
    public const string MetaError = "error";
    public const string MetaErrorMessage = "errorMessage";
    public const string MetaHttpStatus = "httpStatus";
    public const string MetaBackend = "backend";
    public const string MetaLatencyMs = "latencyMs";
    public const string MetaPromptTokens = "promptTokens";
    public const string MetaCompletionTokens = "completionTokens";
    public const string MetaHistoryMessages = "historyMessages";

    private static readonly TimeSpan StoppingReplyTimeout = TimeSpan.FromMilliseconds(200);

    private readonly AgentOptions _options;
    private readonly IChatBackend _backend;
    private readonly GryphLog _log;
    private readonly IMessageTransport _transport;
    private readonly CancellationTokenSource _receiving = new();
    private readonly CancellationTokenSource _generating = new();
    private readonly Dictionary<string, List<ChatTurn>> _histories = new(StringComparer.Ordinal);
    private readonly Thread _thread;
    private readonly object _gate = new();
    private long _messagesHandled;
    private long _errors;
    private volatile bool _stopRequested;
    private volatile GryphAgentState _state = GryphAgentState.Running;
    private string? _lastError;
    private string? _inFlight;
    private bool _cleanedUp;

    private GryphAgent(AgentOptions options, IChatBackend backend, GryphLog log)
    {
        _options = options;
        _backend = backend;
        _log = log;
        _transport = options.EffectiveTransport;
        InboxPath = _transport.Locate(options.Name);
        StartTime = DateTime.Now;
        _thread = new Thread(Serve) { IsBackground = true, Name = "GryphAgent " + options.Name };
    }

    public string Name => _options.Name;

    public string InboxPath { get; }

    public string Backend => _backend.Description;

    /// <summary>Running, Stopping, Stopped, or Failed (also when its llama-server has failed for good).</summary>
    public GryphAgentState State => _state == GryphAgentState.Running && Server?.State == LlamaServerState.Failed ? GryphAgentState.Failed : _state;

    /// <summary>The llama-server this agent supervises (Start-GryphAgent -LlamaServer); null for other backends.</summary>
    public LlamaServerProcess? Server => (_backend as LlamaServerChatBackend)?.Server;

    /// <summary>The server's process id, while it runs.</summary>
    public int? ServerProcessId => Server?.ProcessId;

    /// <summary>The server's loopback port.</summary>
    public int? ServerPort => Server?.Port;

    /// <summary>Starting, Ready, Restarting, Failed or Stopped.</summary>
    public LlamaServerState? ServerState => Server?.State;

    /// <summary>The server's resident memory, bytes.</summary>
    public long? ServerMemoryBytes => Server?.MemoryBytes;

    public long MessagesHandled => Interlocked.Read(ref _messagesHandled);

    public long Errors => Interlocked.Read(ref _errors);

    public string? LastError => Server is { State: LlamaServerState.Failed } server ? server.FailureMessage : Volatile.Read(ref _lastError);

    /// <summary>The id of the message being answered now, if any.</summary>
    public string? InFlight => Volatile.Read(ref _inFlight);

    public DateTime StartTime { get; }

    public string? LogPath => _options.LogPath;

    public string? SystemPrompt => _options.SystemPrompt;

    public int MaxHistoryMessages => _options.MaxHistoryMessages;

    public bool CreatedEndpoint => _options.CreatedEndpoint;

    /// <summary>The peers this agent has talked with.</summary>
    public IReadOnlyList<string> Peers
    {
        get
        {
            lock (_gate)
            {
                return TextList.Of(_histories.Keys.ToArray());
            }
        }
    }

    /// <summary>Opens the inbox and starts serving; throws when the inbox cannot be opened (nothing is left running).</summary>
    public static GryphAgent Start(AgentOptions options, IChatBackend backend, Action<GryphLogLevel, string>? sink = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        var log = new GryphLog(sink, options.LogPath);
        var agent = new GryphAgent(options, backend, log);
        IMessageReceiver receiver;
        try
        {
            receiver = agent._transport.OpenReceiver(options.Name, options.MaxMessageBytes, log, agent._receiving.Token);
        }
        catch
        {
            log.Dispose();
            agent._receiving.Dispose();
            agent._generating.Dispose();
            throw;
        }

        log.Write(GryphLogLevel.Info, $"Agent {options.Name} started on {agent.InboxPath} with backend {backend.Description}");
        agent._thread.Start(receiver);
        return agent;
    }

    /// <summary>
    /// Stops serving. A message in flight may finish within <paramref name="grace"/>; after that its
    /// generation is cancelled and the sender gets a Cancelled error reply. Returns true when the serving
    /// thread has ended (the backend is then disposed and a created inbox removed).
    /// </summary>
    public bool Stop(TimeSpan grace)
    {
        _stopRequested = true;
        if (_state == GryphAgentState.Running)
        {
            _state = GryphAgentState.Stopping;
        }

        _log.Write(GryphLogLevel.Info, $"Agent {Name} stopping{(InFlight is { } id ? " with message " + id + " in flight" : string.Empty)}");
        _receiving.Cancel();
        if (!_thread.Join(grace))
        {
            _generating.Cancel();
            if (!_thread.Join(TimeSpan.FromMilliseconds(600)))
            {
                _log.Write(GryphLogLevel.Warn, $"Agent {Name}: the backend ignores cancellation; it stops when the current message ends.");
                return false;
            }
        }

        CleanUp();
        return true;
    }

    private void CleanUp()
    {
        lock (_gate)
        {
            if (_cleanedUp)
            {
                return;
            }

            _cleanedUp = true;
        }

        _backend.Dispose();
        if (_options.CreatedEndpoint)
        {
            try
            {
                _transport.RemoveEndpoint(Name);
            }
            catch (GryphgenException ex)
            {
                _log.Write(GryphLogLevel.Warn, $"Could not remove the inbox {InboxPath}: {ex.Message}");
            }
        }

        if (_state != GryphAgentState.Failed)
        {
            _state = GryphAgentState.Stopped;
        }

        _log.Write(GryphLogLevel.Info, $"Agent {Name} stopped after {MessagesHandled} message(s)");
        _log.Dispose();
    }

    private void Serve(object? state)
    {
        using var receiver = (IMessageReceiver)state!;
        try
        {
            while (!_stopRequested)
            {
                ReceiveResult result;
                try
                {
                    result = receiver.Receive(Deadline.Infinite);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                if (result.Message is { } message)
                {
                    Handle(message);
                    receiver.Acknowledge(message); // answered (or answered with an error): a durable inbox may forget it
                }
                else if (result.Error is { } error)
                {
                    RecordError($"{error.ErrorId}: {error.Message}");
                }
            }
        }
        catch (Exception ex) when (ex is GryphgenException or IOException)
        {
            RecordError($"The agent stopped serving: {ex.Message}");
            _state = GryphAgentState.Failed;
        }
        finally
        {
            if (_stopRequested)
            {
                CleanUp(); // also when Stop gave up waiting for a backend that ignores cancellation
            }
        }
    }

    private void Handle(GryphMessage message)
    {
        Volatile.Write(ref _inFlight, message.Id);
        var peer = message.From ?? string.Empty;
        var turns = BuildRequest(peer, message);
        var started = Stopwatch.GetTimestamp();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MetaBackend] = _backend.Description,
            [MetaHistoryMessages] = turns.Count.ToString(CultureInfo.InvariantCulture),
        };
        string content;
        try
        {
            var reply = _backend.CompleteAsync(turns, _generating.Token).GetAwaiter().GetResult();
            content = reply.Content;
            if (reply.PromptTokens is { } prompt)
            {
                metadata[MetaPromptTokens] = prompt.ToString(CultureInfo.InvariantCulture);
            }

            if (reply.CompletionTokens is { } completion)
            {
                metadata[MetaCompletionTokens] = completion.ToString(CultureInfo.InvariantCulture);
            }

            Remember(peer, message, content);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var failure = ex switch
            {
                ChatBackendException b => b,
                OperationCanceledException => new ChatBackendException(ChatErrorKind.Cancelled, "The agent was stopped while answering."),
                _ => new ChatBackendException(ChatErrorKind.BackendFailed, ex.Message, null, ex),
            };
            metadata[MetaError] = failure.ErrorKind;
            metadata[MetaErrorMessage] = failure.Message;
            if (failure.HttpStatus is { } status)
            {
                metadata[MetaHttpStatus] = status.ToString(CultureInfo.InvariantCulture);
            }

            content = string.Empty;
            RecordError($"{failure.ErrorKind}: {failure.Message}");
        }

        metadata[MetaLatencyMs] = Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
        Interlocked.Increment(ref _messagesHandled); // before the reply, so a peer that has the reply sees the count
        Reply(message, content, metadata);
        Volatile.Write(ref _inFlight, null);
    }

    private List<ChatTurn> BuildRequest(string peer, GryphMessage message)
    {
        var turns = new List<ChatTurn>();
        if (!string.IsNullOrEmpty(_options.SystemPrompt))
        {
            turns.Add(new ChatTurn(ChatRole.System, _options.SystemPrompt));
        }

        lock (_gate)
        {
            if (_histories.TryGetValue(peer, out var history))
            {
                turns.AddRange(history);
            }
        }

        turns.Add(new ChatTurn(ChatRole.User, message.Content) { Message = message });
        return turns;
    }

    private void Remember(string peer, GryphMessage message, string reply)
    {
        lock (_gate)
        {
            if (!_histories.TryGetValue(peer, out var history))
            {
                history = new List<ChatTurn>();
                _histories[peer] = history;
            }

            history.Add(new ChatTurn(ChatRole.User, message.Content));
            history.Add(new ChatTurn(ChatRole.Assistant, reply));
            var excess = history.Count - Math.Max(0, _options.MaxHistoryMessages);
            if (excess > 0)
            {
                history.RemoveRange(0, excess);
            }
        }
    }

    private void Reply(GryphMessage request, string content, Dictionary<string, string> metadata)
    {
        if (string.IsNullOrEmpty(request.From) || !Fifo.PipeDirectory.IsValidEndpointName(request.From))
        {
            _log.Write(GryphLogLevel.Warn, $"Message {request.Id} has no sender endpoint; the reply was dropped.");
            return;
        }

        var reply = new GryphMessage
        {
            Id = GryphMessage.NewId(),
            From = Name,
            To = request.From,
            ReplyTo = request.Id,
            Timestamp = DateTime.UtcNow,
            Content = content,
            Bytes = System.Text.Encoding.UTF8.GetByteCount(content), // the log's "Sent message ... (N bytes)" line reads it
            Metadata = metadata,
        };
        var deadline = Deadline.After(_stopRequested ? StoppingReplyTimeout : _options.ReplyTimeout);
        try
        {
            using var sender = _transport.OpenSender(request.From, deadline, _log, _generating.IsCancellationRequested ? CancellationToken.None : _generating.Token);
            sender.Send(reply, deadline);
        }
        catch (Exception ex) when (ex is GryphgenException or OperationCanceledException)
        {
            RecordError($"Replying to {request.From} failed: {ex.Message}");
        }
    }

    private void RecordError(string text)
    {
        Interlocked.Increment(ref _errors);
        Volatile.Write(ref _lastError, text);
        _log.Write(GryphLogLevel.Error, text);
    }

    public void Dispose()
    {
        if (_thread.IsAlive)
        {
            _ = Stop(TimeSpan.Zero);
        }
        else
        {
            CleanUp();
        }

        _receiving.Dispose();
        _generating.Dispose();
    }

    public override string ToString() => Name;
}

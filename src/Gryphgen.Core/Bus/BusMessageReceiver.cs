using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using NATS.Client.Core;

namespace Gryphgen.Core.Bus;

/// <summary>
/// Reads one bus endpoint through its durable consumer. It speaks JetStream's pull protocol itself (a request to
/// $JS.API.CONSUMER.MSG.NEXT with "batch" and "expires") rather than the client's Fetch, because Fetch cannot wait
/// for less than a second and -TimeoutSeconds must hold to within 10 %. It asks for no more messages than the
/// caller expects (one per request); a message is acknowledged only when the caller says it was handed on, and messages it holds
/// unacknowledged are kept alive (+WPI) while it runs and handed back (-NAK) when it closes, so the next receiver
/// gets them at once, in order.
/// <para>
/// A pull lives in the server it was sent to: one that restarts (or a connection that moves to another server)
/// forgets it and never answers, so a pull is sent again after every reconnect, and when its expiry has passed
/// with no answer. While the connection is down, asking waits for it to come back, until the caller's deadline.
/// </para>
/// </summary>
internal sealed class BusMessageReceiver : IMessageReceiver
{
    private static readonly TimeSpan LongestPull = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ShortestPull = TimeSpan.FromMilliseconds(10);

    /// <summary>How long past its expiry a pull may go unanswered before it counts as lost.</summary>
    private static readonly TimeSpan PullGrace = TimeSpan.FromSeconds(2);

    /// <summary>The pause before asking again when JetStream did not answer (a server still recovering its store).</summary>
    private static readonly TimeSpan UnavailablePause = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] Ack = "+ACK"u8.ToArray();
    private static readonly byte[] Nak = "-NAK"u8.ToArray();
    private static readonly byte[] Term = "+TERM"u8.ToArray();
    private static readonly byte[] Progress = "+WPI"u8.ToArray();

    private readonly GryphBus _bus;
    private readonly NatsConnection _connection; // kept for Dispose: the bus may be closed by then
    private readonly string _endpoint;
    private readonly string _pullSubject;
    private readonly long _maxMessageBytes;
    private readonly GryphLog _log;
    private readonly CancellationToken _token;
    private readonly INatsSub<byte[]> _inbox;
    private readonly Dictionary<string, string> _held = new(StringComparer.Ordinal); // message id -> its ack subject
    private readonly Timer _keepAlive;
    private bool _pullOpen; // a request for the next message is with the server and has not been answered
    private long _pullDueBy; // when an open pull should have been answered (Stopwatch timestamp)
    private int _pullConnection; // the value of _connections when the open pull was sent
    private int _connections; // counts (re)connections, so a pull sent before the last one is known lost
    private CancellationTokenSource _connectionChanged = new();
    private bool _disposed;

    private BusMessageReceiver(GryphBus bus, string endpoint, long maxMessageBytes, GryphLog log, INatsSub<byte[]> inbox, CancellationToken token)
    {
        _bus = bus;
        _endpoint = endpoint;
        Path = BusNames.Subject(bus.Namespace, endpoint);
        _pullSubject = $"$JS.API.CONSUMER.MSG.NEXT.{BusNames.Stream(bus.Namespace, endpoint)}.{BusNames.InboxConsumer}";
        _maxMessageBytes = maxMessageBytes;
        _log = log;
        _token = token;
        _inbox = inbox;
        var period = BusTransport.AckWait / 3;
        _keepAlive = new Timer(_ => KeepHeldAlive(), null, period, period);
        _connection = bus.Connection;
        _connection.ConnectionOpened += OnConnectionChanged;
        _connection.ConnectionDisconnected += OnConnectionChanged;
    }

    private ValueTask OnConnectionChanged(object? sender, NatsEventArgs args)
    {
        Interlocked.Increment(ref _connections);
        var changed = Interlocked.Exchange(ref _connectionChanged, new CancellationTokenSource());
        changed.Cancel(); // wakes a wait for a delivery that the pull sent before can no longer bring
        changed.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Cancelled at the next connect or disconnect.</summary>
    private CancellationToken ConnectionChanged
    {
        get
        {
            try
            {
                return Volatile.Read(ref _connectionChanged).Token;
            }
            catch (ObjectDisposedException)
            {
                return new CancellationToken(canceled: true); // swapped out while read: it has just changed
            }
        }
    }

    public string Path { get; }


    public static BusMessageReceiver Open(GryphBus bus, string endpoint, long maxMessageBytes, GryphLog log, CancellationToken token)
    {
        var connection = bus.Connection;
        // Not connection.NewInbox(): the client routes subjects under its own request inbox through one shared
        // subscription meant for request/reply, and deliveries to it never reach a separate subscriber.
        var subject = "_INBOX.gryph-" + Guid.NewGuid().ToString("N");
        var inbox = BusAwait.Result(connection.SubscribeCoreAsync<byte[]>(subject, cancellationToken: token));
        return new BusMessageReceiver(bus, endpoint, maxMessageBytes, log, inbox, token);
    }

    public ReceiveResult Receive(Deadline deadline) => Next(deadline, raw: false);

    public ReceiveResult ReceiveRaw(Deadline deadline) => Next(deadline, raw: true);

    public void Acknowledge(GryphMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string? ackSubject;
        lock (_held)
        {
            if (!_held.Remove(message.Id, out ackSubject))
            {
                return;
            }
        }

        Reply(ackSubject, Ack);
    }

    private ReceiveResult Next(Deadline deadline, bool raw)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            if (_pullOpen && (_pullConnection != Volatile.Read(ref _connections) || Stopwatch.GetTimestamp() > _pullDueBy))
            {
                _log.Write(GryphLogLevel.Warn, $"The pull for '{_endpoint}' was lost (the connection to the bus changed, or the server never answered it); asking again.");
                _pullOpen = false;
            }

            if (!_pullOpen)
            {
                if (deadline.HasExpired || !RequestMessages(deadline))
                {
                    return ReceiveResult.TimedOut;
                }
            }

            var delivery = WaitForDelivery(deadline);
            if (delivery is not { } msg)
            {
                if (deadline.HasExpired)
                {
                    return ReceiveResult.TimedOut; // the pull stays open; what it still brings is read by the next call
                }

                continue; // the connection changed or the pull is overdue: checked above
            }

            if (string.IsNullOrEmpty(msg.ReplyTo))
            {
                // A status from the server, not a message: 408 the pull expired, 404 nothing waiting,
                // 409 the consumer changed, 503 JetStream not (yet) available. Each ends the pull; a new one is sent
                // if time is left.
                var code = msg.Headers?.Code ?? 0;
                if (code is 408 or 404 or 409 or 503)
                {
                    _pullOpen = false;
                }

                if (code == 503)
                {
                    Pause(UnavailablePause, deadline);
                }

                continue;
            }

            _pullOpen = false;
            return Deliver(msg, raw);
        }
    }

    /// <summary>Sends a pull for one message; false when the deadline passed while the connection was down.</summary>
    private bool RequestMessages(Deadline deadline)
    {
        // One message per pull. Fetching ahead would be faster, but what a receiver holds unread when it stops
        // must be handed back, and nats-server 2.9 loses the order (and briefly a message) when several
        // deliveries of one consumer are NAKed together; one at a time, a stopped receiver holds at most one.
        while (true)
        {
            var connection = Volatile.Read(ref _connections);
            if (_bus.Connection.ConnectionState != NatsConnectionState.Open)
            {
                // Down: wait for the reconnect (the client keeps trying) rather than fail at once.
                if (!Pause(LongestPull, deadline))
                {
                    return false;
                }

                continue;
            }

            var expires = deadline.IsInfinite ? LongestPull : deadline.Remaining;
            if (expires > LongestPull)
            {
                expires = LongestPull;
            }

            if (expires < ShortestPull)
            {
                expires = ShortestPull;
            }

            var request = string.Create(CultureInfo.InvariantCulture, $"{{\"batch\":1,\"expires\":{expires.Ticks * 100}}}");
            try
            {
                BusAwait.Complete(_bus.Connection.PublishAsync(_pullSubject, Encoding.ASCII.GetBytes(request), replyTo: _inbox.Subject, cancellationToken: _token));
            }
            catch (NatsException ex)
            {
                if (_bus.Connection.ConnectionState != NatsConnectionState.Open && !deadline.HasExpired)
                {
                    continue; // the connection dropped while asking: wait for it above
                }

                throw BusErrors.Request(ex, $"ask for messages on '{_endpoint}'", _endpoint);
            }

            _pullOpen = true;
            _pullConnection = connection;
            _pullDueBy = Stopwatch.GetTimestamp() + (long)((expires + PullGrace).TotalSeconds * Stopwatch.Frequency);
            return true;
        }
    }

    /// <summary>Waits up to <paramref name="longest"/>, until the deadline or the connection changes; false when the deadline has passed.</summary>
    private bool Pause(TimeSpan longest, Deadline deadline)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_token, ConnectionChanged);
        wait.CancelAfter(deadline.IsInfinite || deadline.Remaining > longest ? longest : deadline.Remaining);
        wait.Token.WaitHandle.WaitOne();
        _token.ThrowIfCancellationRequested();
        return !deadline.HasExpired;
    }

    private NatsMsg<byte[]>? WaitForDelivery(Deadline deadline)
    {
        var reader = _inbox.Msgs;
        if (reader.TryRead(out var ready))
        {
            return ready;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_token, ConnectionChanged);
        var overdue = TimeSpan.FromSeconds(Math.Max(0, (double)(_pullDueBy - Stopwatch.GetTimestamp()) / Stopwatch.Frequency));
        wait.CancelAfter(deadline.IsInfinite || deadline.Remaining > overdue ? overdue : deadline.Remaining);

        try
        {
            return BusAwait.Result(reader.ReadAsync(wait.Token));
        }
        catch (OperationCanceledException) when (!_token.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException ex)
        {
            throw new GryphgenException(BusErrors.NotConnected, GryphgenErrorKind.ResourceUnavailable,
                $"The subscription for '{_endpoint}' was closed: the bus connection is gone.", _endpoint, ex);
        }
    }

    private ReceiveResult Deliver(NatsMsg<byte[]> msg, bool raw)
    {
        var payload = msg.Data ?? [];
        var ackSubject = msg.ReplyTo!;
        if (payload.Length > _maxMessageBytes)
        {
            Reply(ackSubject, Term); // it can never be taken here; delivering it again would only repeat this error
            return Failure("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
                $"A message on '{_endpoint}' has {payload.Length} bytes, over the limit of {_maxMessageBytes} (-MaxMessageBytes); it was dropped.");
        }

        GryphMessage message;
        try
        {
            message = BusEnvelope.FromDelivery(raw ? null : msg.Headers, payload, _endpoint);
        }
        catch (FormatException ex)
        {
            Reply(ackSubject, Term);
            return Failure("GryphMessageMalformed", GryphgenErrorKind.InvalidData, $"A message on '{_endpoint}' is malformed ({ex.Message}); it was dropped.");
        }

        lock (_held)
        {
            _held[message.Id] = ackSubject;
        }


        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Received message {message.Id} ({message.Bytes} bytes) from {message.From ?? "?"} on bus endpoint {_endpoint}");
        }

        return new ReceiveResult(message, null);
    }

    private ReceiveResult Failure(string id, GryphgenErrorKind kind, string text)
    {
        _log.Write(GryphLogLevel.Error, $"{id}: {text}");
        return new ReceiveResult(null, new GryphgenException(id, kind, text, _endpoint));
    }

    private void KeepHeldAlive()
    {
        string[] subjects;
        lock (_held)
        {
            subjects = _held.Values.ToArray();
        }

        foreach (var subject in subjects)
        {
            TryReply(subject, Progress);
        }
    }

    private void Reply(string subject, byte[] verb)
    {
        try
        {
            BusAwait.Complete(_bus.Connection.PublishAsync(subject, verb, cancellationToken: CancellationToken.None));
        }
        catch (NatsException ex)
        {
            throw BusErrors.Request(ex, $"acknowledge a message on '{_endpoint}'", _endpoint);
        }
    }

    private void TryReply(string subject, byte[] verb)
    {
        try
        {
            _ = _bus.Connection.PublishAsync(subject, verb, cancellationToken: CancellationToken.None).AsTask().Wait(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is NatsException or AggregateException or GryphgenException)
        {
            // best effort: a message that is not kept alive or handed back is delivered again after AckWait
        }
    }

    private void TryPing()
    {
        try
        {
            _ = _bus.Connection.PingAsync(CancellationToken.None).AsTask().Wait(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is NatsException or AggregateException or GryphgenException)
        {
            // best effort, as TryReply
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _keepAlive.Dispose();
        _connection.ConnectionOpened -= OnConnectionChanged;
        _connection.ConnectionDisconnected -= OnConnectionChanged;
        if (_pullOpen)
        {
            // The message of the open pull may be on its way: the server answers a ping only after sending what it
            // sent before, so after the pong it is in the channel below, to be handed back too. Once the
            // subscription is gone the server drops the pull, having no one to deliver it to.
            TryPing();
        }

        // Hand back what was delivered but not handed on, so the next receiver gets it now, not after AckWait:
        // first everything is collected and the subscription closed, so the open pull cannot take the handed-back
        // messages again (the server drops a pull whose reply subject has no subscriber), then NAKs in order.
        var handBack = new List<string>();
        lock (_held)
        {
            handBack.AddRange(_held.Values);
            _held.Clear();
        }

        while (_inbox.Msgs.TryRead(out var pending))
        {
            if (!string.IsNullOrEmpty(pending.ReplyTo))
            {
                handBack.Add(pending.ReplyTo);
            }
        }

        try
        {
            _ = _inbox.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        if (handBack.Count > 0)
        {
            TryPing(); // the server has seen the UNSUB before the NAKs
        }

        foreach (var subject in handBack)
        {
            TryReply(subject, Nak);
        }
    }
}

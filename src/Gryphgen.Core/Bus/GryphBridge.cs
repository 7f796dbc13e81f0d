using System.Collections.Concurrent;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Bus;

public enum GryphBridgeState
{
    Running,
    Stopped,
    Failed,
}

/// <summary>
/// Relays a local FIFO endpoint to the bus and back, so shell and Perl peers on one host talk to agents on another.
/// Frames (or lines, with Raw) written to the local FIFO "Name" are published to the bus endpoint "Name". Every
/// local sender seen in them (and every endpoint in Returns) gets a return relay: its bus endpoint is read and
/// each message written into its local FIFO, and acknowledged on the bus only once written, so nothing is lost
/// while a local reader is away.
/// </summary>
public sealed class GryphBridge : IDisposable
{
    private readonly BridgeOptions _options;
    private readonly GryphBus _bus;
    private readonly GryphLog _log;
    private readonly FifoTransport _local;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Thread> _returns = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _createdLocally = new(); // FIFOs the bridge made, removed when it stops
    private readonly Thread _outbound;
    private long _toBus;
    private long _fromBus;
    private long _errors;
    private string? _lastError;
    private volatile GryphBridgeState _state = GryphBridgeState.Running;

    private GryphBridge(BridgeOptions options, GryphBus bus, GryphLog log)
    {
        _options = options;
        _bus = bus;
        _log = log;
        _local = new FifoTransport(options.PipeDirectory, options.AllowShared);
        LocalPath = _local.Locate(options.Name);
        Subject = bus.Transport.Locate(options.Name);
        StartTime = DateTime.Now;
        _outbound = new Thread(RelayToBus) { IsBackground = true, Name = "GryphBridge " + options.Name };
    }

    public string Name => _options.Name;

    public string LocalPath { get; }

    public string Subject { get; }

    public GryphBridgeState State => _state;

    public bool Raw => _options.Raw;

    /// <summary>Messages taken from the local FIFO and stored on the bus.</summary>
    public long RelayedToBus => Interlocked.Read(ref _toBus);

    /// <summary>Messages taken from the bus and written into local FIFOs.</summary>
    public long RelayedFromBus => Interlocked.Read(ref _fromBus);

    public long Errors => Interlocked.Read(ref _errors);

    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>The local endpoints whose bus messages this bridge writes back.</summary>
    public IReadOnlyList<string> ReturnEndpoints => TextList.Of(_returns.Keys.Order(StringComparer.Ordinal).ToArray());

    public DateTime StartTime { get; }

    /// <summary>Creates the local FIFO and the bus endpoint if missing, then starts relaying.</summary>
    public static GryphBridge Start(BridgeOptions options, GryphBus bus, Action<GryphLogLevel, string>? sink = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bus);
        if (options.Raw && options.RawSender is { } sender && !PipeDirectory.IsValidEndpointName(sender))
        {
            throw new GryphgenException("GryphEndpointNameInvalid", GryphgenErrorKind.InvalidArgument, $"'{sender}' is not a valid endpoint name.", sender);
        }

        var log = new GryphLog(sink, options.LogPath);
        var bridge = new GryphBridge(options, bus, log);
        try
        {
            bridge.CreateLocal(options.Name);
            bus.Transport.CreateEndpoint(options.Name);
            foreach (var name in options.Returns.Concat(options.Raw && options.RawSender is { } s ? [s] : []))
            {
                bridge.EnsureReturn(name);
            }
        }
        catch
        {
            bridge.Dispose();
            throw;
        }

        log.Write(GryphLogLevel.Info, $"Bridge {options.Name}: {bridge.LocalPath} -> {bridge.Subject}");
        bridge._outbound.Start();
        return bridge;
    }

    /// <summary>Stops relaying; a message being written is finished or left on the bus for the next bridge.</summary>
    public void Stop()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        if (_outbound.IsAlive)
        {
            _outbound.Join(TimeSpan.FromSeconds(5));
        }

        foreach (var thread in _returns.Values)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        if (_state == GryphBridgeState.Running)
        {
            _state = GryphBridgeState.Stopped;
        }

        foreach (var endpoint in _createdLocally.Distinct(StringComparer.Ordinal))
        {
            try
            {
                _local.RemoveEndpoint(endpoint);
            }
            catch (GryphgenException ex)
            {
                _log.Write(GryphLogLevel.Warn, $"Bridge {Name}: could not remove {_local.Locate(endpoint)}: {ex.Message}");
            }
        }

        _log.Write(GryphLogLevel.Info, $"Bridge {Name} stopped: {RelayedToBus} to the bus, {RelayedFromBus} from it");
    }

    private void RelayToBus()
    {
        var token = _stopping.Token;
        try
        {
            using var receiver = _local.OpenReceiver(Name, _options.MaxMessageBytes, _log, token);
            using var sender = _bus.Transport.OpenSender(Name, Deadline.Infinite, _log, token);
            while (!token.IsCancellationRequested)
            {
                var result = _options.Raw ? receiver.ReceiveRaw(Deadline.Infinite) : receiver.Receive(Deadline.Infinite);
                if (result.Error is { } error)
                {
                    RecordError($"{error.ErrorId}: {error.Message}");
                    continue;
                }

                if (result.Message is not { } message)
                {
                    continue;
                }

                if (_options.Raw)
                {
                    message = new GryphMessage
                    {
                        Id = message.Id,
                        From = _options.RawSender,
                        To = Name,
                        Timestamp = message.UtcTimestamp,
                        Content = message.Content,
                        Bytes = message.Bytes,
                    };
                }

                if (message.From is { } from && PipeDirectory.IsValidEndpointName(from))
                {
                    EnsureReturn(from); // before publishing, so the reply finds its way back
                }

                Publish(sender, message, token);
                message.Release(); // its bytes are on the bus now: the next frame is read into the same memory
                Interlocked.Increment(ref _toBus);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (GryphgenException ex)
        {
            RecordError($"The bridge stopped relaying {Name} to the bus: {ex.Message}");
            _state = GryphBridgeState.Failed;
        }
    }

    /// <summary>
    /// Publishes until the bus confirms, however long it is away: the message has left the local FIFO, so giving up
    /// would lose it. Retries carry the same id, so the bus stores it once.
    /// </summary>
    private void Publish(IMessageSender sender, GryphMessage message, CancellationToken token)
    {
        while (true)
        {
            try
            {
                sender.Send(message, Deadline.After(TimeSpan.FromSeconds(30)));
                return;
            }
            catch (GryphgenException ex) when (ex.Kind == GryphgenErrorKind.Timeout)
            {
                RecordError($"The bus has not confirmed message {message.Id} for {Name} yet ({ex.Message}); still trying.");
                token.ThrowIfCancellationRequested();
            }
        }
    }

    private void EnsureReturn(string endpoint)
    {
        if (_returns.ContainsKey(endpoint))
        {
            return;
        }

        _bus.Transport.CreateEndpoint(endpoint);
        CreateLocal(endpoint); // now, so a local peer can open it for reading before the first answer comes
        var thread = new Thread(() => RelayFromBus(endpoint)) { IsBackground = true, Name = "GryphBridge return " + endpoint };
        if (_returns.TryAdd(endpoint, thread))
        {
            _log.Write(GryphLogLevel.Info, $"Bridge {Name}: messages for {endpoint} on the bus go to {_local.Locate(endpoint)}");
            thread.Start();
        }
    }

    private void RelayFromBus(string endpoint)
    {
        var token = _stopping.Token;
        try
        {
            using var receiver = _bus.Transport.OpenReceiver(endpoint, _options.MaxMessageBytes, _log, token);
            while (!token.IsCancellationRequested)
            {
                var result = receiver.Receive(Deadline.Infinite);
                if (result.Error is { } error)
                {
                    RecordError($"{error.ErrorId}: {error.Message}");
                    continue;
                }

                if (result.Message is not { } message)
                {
                    continue;
                }

                WriteLocally(endpoint, message, token);
                receiver.Acknowledge(message);
                Interlocked.Increment(ref _fromBus);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (GryphgenException ex)
        {
            RecordError($"The bridge stopped relaying {endpoint} from the bus: {ex.Message}");
        }
    }

    /// <summary>Writes into the local FIFO, waiting for its reader as long as the bridge runs; the message stays held on the bus meanwhile.</summary>
    private void WriteLocally(string endpoint, GryphMessage message, CancellationToken token)
    {
        var raw = _options.Raw && string.Equals(endpoint, _options.RawSender, StringComparison.Ordinal);
        CreateLocal(endpoint);

        while (true)
        {
            token.ThrowIfCancellationRequested();
            var deadline = Deadline.After(_options.LocalWriteTimeout);
            try
            {
                using var sender = _local.OpenSender(endpoint, deadline, _log, token);
                if (raw)
                {
                    sender.SendRaw(message.Content, deadline);
                }
                else
                {
                    sender.Send(message, deadline);
                }

                return;
            }
            catch (GryphgenException ex) when (ex.Kind == GryphgenErrorKind.Timeout)
            {
                _log.Write(GryphLogLevel.Warn, $"Bridge {Name}: no reader on {_local.Locate(endpoint)} yet; message {message.Id} waits on the bus.");
            }
        }
    }

    private void CreateLocal(string endpoint)
    {
        if (!_local.EndpointExists(endpoint) && _local.CreateEndpoint(endpoint))
        {
            _createdLocally.Add(endpoint);
        }
    }

    private void RecordError(string text)
    {
        Interlocked.Increment(ref _errors);
        Volatile.Write(ref _lastError, text);
        _log.Write(GryphLogLevel.Error, text);
    }

    public override string ToString() => Name;

    public void Dispose()
    {
        Stop();
        _stopping.Dispose();
        _log.Dispose();
    }
}

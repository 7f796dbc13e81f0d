using System.Text;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Gryphgen.Core.Bus;

/// <summary>
/// Publishes to one bus endpoint and waits for JetStream to confirm each message is stored. A publish that gets no
/// confirmation (a server failing over, a lost connection) is retried with the same message id until the deadline;
/// JetStream's de-duplication keeps it to one stored copy.
/// </summary>
internal sealed class BusMessageSender : IMessageSender
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    /// <summary>How many queued publishes may await their confirmations at once.</summary>
    private const int Window = 256;

    private readonly Queue<Pending> _inFlight = new();
    private readonly GryphBus _bus;
    private readonly string _endpoint;
    private readonly GryphLog _log;
    private readonly CancellationToken _token;

    public BusMessageSender(GryphBus bus, string endpoint, string subject, GryphLog log, CancellationToken token)
    {
        _bus = bus;
        _endpoint = endpoint;
        Path = subject;
        _log = log;
        _token = token;
    }

    public string Path { get; }

    public int Send(GryphMessage message, Deadline deadline)
    {
        var headers = BusEnvelope.ToHeaders(message);
        var payload = Payload(message);
        Publish(payload, headers, message.Id, deadline);
        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Sent message {message.Id} ({payload.Length} bytes) to {_endpoint} on the bus{(message.ReplyTo is null ? string.Empty : " in reply to " + message.ReplyTo)}");
        }

        return payload.Length;
    }

    public void SendRaw(string content, Deadline deadline)
    {
        var payload = Encoding.UTF8.GetBytes(content);
        Publish(payload, null, GryphMessage.NewId(), deadline);
        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Sent raw text ({payload.Length} bytes) to {_endpoint} on the bus");
        }
    }

    public int Queue(GryphMessage message, Deadline deadline)
    {
        var headers = BusEnvelope.ToHeaders(message);
        var payload = Payload(message);
        Enqueue(payload, headers, message.Id, deadline);
        return payload.Length;
    }

    /// <summary>The content as UTF-8: a received message's own bytes, copied, or the string encoded.</summary>
    private static byte[] Payload(GryphMessage message) =>
        message.TryGetUtf8Content(out var utf8) ? utf8.ToArray() : Encoding.UTF8.GetBytes(message.Content);

    public void QueueRaw(string content, Deadline deadline) =>
        Enqueue(Encoding.UTF8.GetBytes(content), null, GryphMessage.NewId(), deadline);

    public void Flush(Deadline deadline)
    {
        while (_inFlight.Count > 0)
        {
            Complete(_inFlight.Dequeue(), deadline);
        }
    }

    /// <summary>
    /// Publishes without waiting for the confirmation, so up to <see cref="Window"/> messages travel at once; they
    /// are stored in the order sent, as one connection carries them. A publish that is not confirmed is sent again
    /// with the same id, synchronously, when its turn to complete comes.
    /// </summary>
    private void Enqueue(byte[] payload, NatsHeaders? headers, string messageId, Deadline deadline)
    {
        CheckSize(payload, messageId);
        var ack = _bus.JetStream.PublishAsync(Path, payload, headers: headers, opts: new NatsJSPubOpts { MsgId = messageId }, cancellationToken: _token).AsTask();
        _inFlight.Enqueue(new Pending(ack, payload, headers, messageId));
        if (_inFlight.Count >= Window)
        {
            Complete(_inFlight.Dequeue(), deadline);
        }
    }

    private void Complete(Pending pending, Deadline deadline)
    {
        try
        {
            var finished = deadline.IsInfinite ? pending.Ack.Wait(Timeout.Infinite, _token) : pending.Ack.Wait(deadline.Remaining, _token);
            if (finished && (pending.Ack.Result.Duplicate || pending.Ack.Result.Error is null))
            {
                return;
            }
        }
        catch (AggregateException ex) when (ex.InnerException is not null && !IsTransient(ex.InnerException))
        {
            throw Refusal(ex.InnerException, pending.MessageId);
        }
        catch (AggregateException)
        {
            // not confirmed: sent again below
        }

        Publish(pending.Payload, pending.Headers, pending.MessageId, deadline);
    }

    private GryphgenException Refusal(Exception exception, string messageId) => exception switch
    {
        NatsPayloadTooLargeException => new GryphgenException("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
            $"Message {messageId} is larger than the bus server takes: {exception.Message}", messageId, exception),
        _ => BusErrors.Request(exception, $"store message {messageId} for {_endpoint}", _endpoint),
    };

    private void CheckSize(byte[] payload, string messageId)
    {
        var limit = _bus.MaxPayload;
        if (limit > 0 && payload.Length > limit)
        {
            throw new GryphgenException("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
                $"Message {messageId} has {payload.Length} bytes; the bus server takes at most {limit} (its max_payload).", messageId);
        }
    }

    private sealed record Pending(Task<PubAckResponse> Ack, byte[] Payload, NatsHeaders? Headers, string MessageId);

    private void Publish(byte[] payload, NatsHeaders? headers, string messageId, Deadline deadline)
    {
        CheckSize(payload, messageId);

        var attempt = 0;
        var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            attempt++;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_token, _bus.NextServerError);
            if (!deadline.IsInfinite)
            {
                timeout.CancelAfter(deadline.Remaining);
            }

            try
            {
                var ack = BusAwait.Result(_bus.JetStream.PublishAsync(Path, payload, headers: headers,
                    opts: new NatsJSPubOpts { MsgId = messageId }, cancellationToken: timeout.Token));
                if (ack.Duplicate)
                {
                    // An earlier attempt (or send) with this id was stored: the retry is the same message, stored once.
                    _log.Write(GryphLogLevel.Info, $"Message {messageId} was already stored on the bus; this send was not stored twice.");
                    return;
                }

                ack.EnsureSuccess();
                return;
            }
            catch (OperationCanceledException) when (_token.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                if (_bus.ServerErrorSince(startedAt) is { } serverError && serverError.Contains("Permissions Violation", StringComparison.OrdinalIgnoreCase))
                {
                    throw new GryphgenException("GryphBusPermissionDenied", GryphgenErrorKind.PermissionDenied,
                        $"The bus refused message {messageId} to {_endpoint}: {serverError}. The user needs publish permission on {Path} and $JS.API.>.", _endpoint, ex);
                }

                if (deadline.HasExpired)
                {
                    throw new GryphgenException("GryphSendTimeout", GryphgenErrorKind.Timeout,
                        $"The bus did not confirm message {messageId} to {_endpoint} before the timeout ({attempt} attempt(s)): {ex.Message}", _endpoint, ex);
                }

                _log.Write(GryphLogLevel.Warn, $"No confirmation for message {messageId} from the bus ({ex.Message}); sending it again with the same id.");
                _token.WaitHandle.WaitOne(RetryPause); // a pause between retries, cut short by Ctrl+C
                _token.ThrowIfCancellationRequested();
            }
            catch (NatsPayloadTooLargeException ex)
            {
                throw new GryphgenException("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
                    $"Message {messageId} is larger than the bus server takes: {ex.Message}", messageId, ex);
            }
            catch (NatsJSApiException ex)
            {
                throw BusErrors.Request(ex, $"store message {messageId} for {_endpoint}", _endpoint);
            }
        }
    }

    private static bool IsTransient(Exception exception) =>
        exception is OperationCanceledException or TimeoutException or NatsJSPublishNoResponseException or NatsNoRespondersException
        || (exception is NatsException && exception is not NatsPayloadTooLargeException && exception is not NatsJSApiException);

    /// <summary>Publishes still awaiting confirmation are not waited for here: <see cref="Flush"/> is how a caller knows they were stored.</summary>
    public void Dispose() => _inFlight.Clear();
}

using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Gryphgen.Core.Bus;

/// <summary>
/// Endpoints on a NATS bus. Each endpoint is a JetStream stream with work-queue retention (a message is kept
/// until a receiver acknowledges it) and one durable pull consumer, so messages sent while no receiver runs wait
/// for the next one, in order.
/// </summary>
public sealed class BusTransport : IMessageTransport
{
    /// <summary>How long a delivered message may go unacknowledged before the bus delivers it again; receivers that still hold a message extend it.</summary>
    public static readonly TimeSpan AckWait = TimeSpan.FromSeconds(30);

    /// <summary>JetStream drops a publish whose message id it has seen within this window, so retried sends are stored once.</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromMinutes(2);

    private readonly GryphBus _bus;

    internal BusTransport(GryphBus bus) => _bus = bus;

    public GryphBus Bus => _bus;

    public string Description => $"bus namespace '{_bus.Namespace}' at {string.Join(",", _bus.Servers)}";

    public string Locate(string endpoint) => BusNames.Subject(_bus.Namespace, endpoint);

    public bool EndpointExists(string endpoint) => TryGetStream(endpoint) is not null;

    public bool CreateEndpoint(string endpoint) => CreateEndpoint(endpoint, _bus.Replicas);

    /// <summary>Creates the endpoint's stream (with <paramref name="replicas"/> copies in a cluster) and its durable consumer; true when the stream is new.</summary>
    public bool CreateEndpoint(string endpoint, int replicas)
    {
        var stream = BusNames.Stream(_bus.Namespace, endpoint);
        var subject = BusNames.Subject(_bus.Namespace, endpoint);
        var created = false;
        try
        {
            if (TryGetStream(endpoint) is null)
            {
                var config = new StreamConfig(stream, [subject])
                {
                    Description = $"Gryphgen endpoint '{endpoint}' in namespace '{_bus.Namespace}'",
                    Retention = StreamConfigRetention.Workqueue,
                    Storage = StreamConfigStorage.File,
                    NumReplicas = replicas,
                    DuplicateWindow = DuplicateWindow,
                };
                BusAwait.Result(_bus.JetStream.CreateStreamAsync(config));
                created = true;
            }

            var consumer = new ConsumerConfig(BusNames.InboxConsumer)
            {
                Description = $"Inbox of Gryphgen endpoint '{endpoint}'",
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = AckWait,
                MaxDeliver = -1,
                MaxAckPending = 10_000,
                DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            };
            BusAwait.Result(_bus.JetStream.CreateOrUpdateConsumerAsync(stream, consumer));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw BusErrors.Request(ex, $"create the endpoint '{endpoint}' (stream {stream})", endpoint);
        }

        return created;
    }

    public void RemoveEndpoint(string endpoint)
    {
        var stream = BusNames.Stream(_bus.Namespace, endpoint);
        try
        {
            BusAwait.Result(_bus.JetStream.DeleteStreamAsync(stream));
        }
        catch (NatsJSApiException ex) when (BusErrors.IsNotFound(ex))
        {
            throw BusErrors.EndpointMissing(endpoint, _bus.Namespace);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw BusErrors.Request(ex, $"remove the endpoint '{endpoint}'", endpoint);
        }
    }

    /// <summary>The endpoints of this namespace, with what waits in each.</summary>
    public IReadOnlyList<BusEndpoint> ListEndpoints(CancellationToken token = default)
    {
        var result = new List<BusEndpoint>();
        try
        {
            var names = BusAwait.Result(CollectAsync(_bus.JetStream.ListStreamNamesAsync(cancellationToken: token)));
            foreach (var stream in names.Order(StringComparer.Ordinal))
            {
                if (BusNames.EndpointOfStream(_bus.Namespace, stream) is { } endpoint && Describe(endpoint, token) is { } info)
                {
                    result.Add(info);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw BusErrors.Request(ex, "list the endpoints", _bus.Namespace);
        }

        return result;
    }

    /// <summary>One endpoint's state; null when it does not exist.</summary>
    public BusEndpoint? Describe(string endpoint, CancellationToken token = default)
    {
        var stream = TryGetStream(endpoint, token);
        if (stream is null)
        {
            return null;
        }

        ConsumerInfo? consumer = null;
        try
        {
            consumer = BusAwait.Result(stream.GetConsumerAsync(BusNames.InboxConsumer, token)).Info;
        }
        catch (NatsJSApiException ex) when (BusErrors.IsNotFound(ex))
        {
        }

        var info = stream.Info;
        return new BusEndpoint
        {
            Name = endpoint,
            Namespace = _bus.Namespace,
            Subject = BusNames.Subject(_bus.Namespace, endpoint),
            Stream = info.Config.Name ?? string.Empty,
            Messages = (long)info.State.Messages,
            Bytes = (long)info.State.Bytes,
            AckPending = consumer?.NumAckPending ?? 0,
            WaitingReceivers = consumer?.NumWaiting ?? 0,
            Replicas = info.Config.NumReplicas,
            CreationTime = info.Created.LocalDateTime,
        };
    }

    public IMessageSender OpenSender(string endpoint, Deadline deadline, GryphLog log, CancellationToken token)
    {
        RequireEndpointWithin(endpoint, deadline, log, token);
        log.Write(GryphLogLevel.Info, $"Sending to bus endpoint {endpoint} ({Locate(endpoint)})");
        return new BusMessageSender(_bus, endpoint, Locate(endpoint), log, token);
    }

    public IMessageReceiver OpenReceiver(string endpoint, long maxMessageBytes, GryphLog log, CancellationToken token)
    {
        RequireEndpoint(endpoint, token);
        log.Write(GryphLogLevel.Info, $"Receiving from bus endpoint {endpoint} ({Locate(endpoint)})");
        return BusMessageReceiver.Open(_bus, endpoint, maxMessageBytes, log, token);
    }

    /// <summary>
    /// <see cref="RequireEndpoint"/> for a sender, which retries until its deadline: while the bus is down or its
    /// JetStream is still recovering (a restarted server), the lookup is asked again, as a publish is.
    /// </summary>
    private void RequireEndpointWithin(string endpoint, Deadline deadline, GryphLog log, CancellationToken token)
    {
        var attempts = 0;
        while (true)
        {
            attempts++;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
            if (!deadline.IsInfinite)
            {
                attempt.CancelAfter(deadline.Remaining);
            }

            GryphgenException failure;
            try
            {
                RequireEndpoint(endpoint, attempt.Token);
                return;
            }
            catch (OperationCanceledException ex) when (!token.IsCancellationRequested)
            {
                failure = new GryphgenException("GryphSendTimeout", GryphgenErrorKind.Timeout,
                    $"The bus did not answer a lookup of the endpoint '{endpoint}' before the timeout ({attempts} attempt(s)).", endpoint, ex);
            }
            catch (GryphgenException ex) when (ex.ErrorId is BusErrors.RequestFailed or BusErrors.NoJetStream && ex.InnerException is not NatsJSApiException)
            {
                failure = ex;
            }

            if (deadline.HasExpired)
            {
                throw failure.ErrorId == "GryphSendTimeout" ? failure : new GryphgenException("GryphSendTimeout", GryphgenErrorKind.Timeout,
                    $"The bus did not answer a lookup of the endpoint '{endpoint}' before the timeout ({attempts} attempt(s)): {failure.Message}", endpoint, failure);
            }

            log.Write(GryphLogLevel.Warn, $"Looking up the endpoint '{endpoint}' failed ({failure.Message}); asking again.");
            token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(100)); // a pause between attempts, cut short by Ctrl+C
            token.ThrowIfCancellationRequested();
        }
    }

    private void RequireEndpoint(string endpoint, CancellationToken token)
    {
        if (TryGetStream(endpoint, token) is null)
        {
            throw BusErrors.EndpointMissing(endpoint, _bus.Namespace);
        }
    }

    private INatsJSStream? TryGetStream(string endpoint, CancellationToken token = default)
    {
        var stream = BusNames.Stream(_bus.Namespace, endpoint);
        try
        {
            return BusAwait.Result(_bus.JetStream.GetStreamAsync(stream, cancellationToken: token));
        }
        catch (NatsJSApiException ex) when (BusErrors.IsNotFound(ex))
        {
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw BusErrors.Request(ex, $"look up the endpoint '{endpoint}'", endpoint);
        }
    }

    private static async Task<List<string>> CollectAsync(IAsyncEnumerable<string> names)
    {
        var list = new List<string>();
        await foreach (var name in names.ConfigureAwait(false))
        {
            list.Add(name);
        }

        return list;
    }
}

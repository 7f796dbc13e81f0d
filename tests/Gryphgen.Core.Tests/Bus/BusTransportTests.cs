using System.Diagnostics;
using System.Text;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.Tests;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Xunit;

namespace Gryphgen.Core.Tests.Bus;

/// <summary>The bus transport against a real nats-server with JetStream: durable endpoints, delivery, limits, errors.</summary>
public sealed class BusTransportTests : IDisposable
{
    private static Deadline Soon => Deadline.After(TimeSpan.FromSeconds(10));
    private readonly List<IDisposable> _cleanup = new();

    public void Dispose()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
        {
            _cleanup[i].Dispose();
        }
    }

    private (NatsTestServer Server, GryphBus Bus) Connected(NatsTestServerOptions? options = null)
    {
        var server = NatsTestServer.Start(options);
        _cleanup.Add(server);
        var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [server.Url], Namespace = "t" + Guid.NewGuid().ToString("N")[..8] });
        _cleanup.Add(bus);
        return (server, bus);
    }

    private static GryphMessage Message(string content, string? from = "alice", string? id = null) => new()
    {
        Id = id ?? GryphMessage.NewId(),
        From = from,
        To = "bob",
        Timestamp = DateTime.UtcNow,
        Content = content,
        Bytes = Encoding.UTF8.GetByteCount(content),
    };

    private static void SendAll(BusTransport transport, string endpoint, IEnumerable<GryphMessage> messages)
    {
        using var sender = transport.OpenSender(endpoint, Soon, GryphLog.None, CancellationToken.None);
        foreach (var message in messages)
        {
            sender.Send(message, Deadline.After(TimeSpan.FromSeconds(10)));
        }
    }

    [SkippableFact]
    public void Endpoint_IsCreatedOnce_DescribedAndRemoved()
    {
        var (_, bus) = Connected();
        var transport = bus.Transport;
        Assert.False(transport.EndpointExists("bob"));
        Assert.True(transport.CreateEndpoint("bob"));
        Assert.False(transport.CreateEndpoint("bob"));
        var endpoint = Assert.Single(transport.ListEndpoints());
        Assert.Equal("bob", endpoint.Name);
        Assert.Equal($"gryph.{bus.Namespace}.bob", endpoint.Subject);
        Assert.Equal(1, endpoint.Replicas);

        transport.RemoveEndpoint("bob");
        Assert.False(transport.EndpointExists("bob"));
        var error = Assert.Throws<GryphgenException>(() => transport.RemoveEndpoint("bob"));
        Assert.Equal("GryphEndpointNotFound", error.ErrorId);
    }

    [SkippableFact]
    public void SendingToAMissingEndpoint_SaysHowToCreateIt()
    {
        var (_, bus) = Connected();
        var error = Assert.Throws<GryphgenException>(() => bus.Transport.OpenSender("nobody", Soon, GryphLog.None, CancellationToken.None));
        Assert.Equal("GryphEndpointNotFound", error.ErrorId);
        Assert.Equal(GryphgenErrorKind.NotFound, error.Kind);
        Assert.Contains("New-GryphPipe -Name nobody", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Envelope_ArrivesWhole()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        var template = Message("multi\nline \u00e9\U0001F600\n");
        var sent = new GryphMessage
        {
            Id = template.Id, From = "alice", To = "bob", ReplyTo = GryphMessage.NewId(), Timestamp = template.Timestamp, Content = template.Content,
            Metadata = new Dictionary<string, string> { ["round"] = "2" }, Bytes = template.Bytes,
        };
        SendAll(bus.Transport, "bob", [sent]);

        using var receiver = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        var got = receiver.Receive(Soon).Message!;
        receiver.Acknowledge(got);
        Assert.Equal(sent.Id, got.Id);
        Assert.Equal(sent.ReplyTo, got.ReplyTo);
        Assert.Equal(sent.Content, got.Content);
        Assert.Equal("2", got.Metadata["round"]);
        Assert.Equal(sent.Bytes, got.Bytes);
    }

    [SkippableFact]
    public void ThousandMessagesSentWhileNoReceiverRuns_ArriveInOrderOnceEach()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        SendAll(bus.Transport, "bob", Enumerable.Range(1, 1000).Select(i => Message(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(1000, bus.Transport.Describe("bob")!.Messages);

        var received = new List<string>();
        using (var receiver = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None))
        {
            while (received.Count < 1000)
            {
                var message = receiver.Receive(Soon).Message ?? throw new Xunit.Sdk.XunitException($"only {received.Count} arrived");
                received.Add(message.Content);
                receiver.Acknowledge(message);
            }

            Assert.True(receiver.Receive(Deadline.After(TimeSpan.FromMilliseconds(300))).IsTimeout, "a message arrived twice");
        }

        Assert.Equal(Enumerable.Range(1, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), received);
        Assert.Equal(0, bus.Transport.Describe("bob")!.Messages);
    }

    [SkippableFact]
    public void QueuedMessages_AreAllStoredByFlush_InOrderOnceEach()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        var messages = Enumerable.Range(1, 3000).Select(i => Message("q" + i)).ToArray();
        using (var sender = bus.Transport.OpenSender("bob", Soon, GryphLog.None, CancellationToken.None))
        {
            foreach (var message in messages)
            {
                sender.Queue(message, Soon);
            }

            sender.Queue(messages[0], Soon); // a retry of the first: the same id is stored once
            sender.Flush(Soon);
        }

        Assert.Equal(3000, bus.Transport.Describe("bob")!.Messages);
        using var receiver = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        for (var i = 1; i <= 3000; i++)
        {
            var got = receiver.Receive(Soon).Message!;
            Assert.Equal("q" + i, got.Content);
            receiver.Acknowledge(got);
        }
    }

    [SkippableFact]
    public void ReceiverThatStopsAfterN_LeavesTheRestForTheNextReceiver_AtOnceAndInOrder()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        SendAll(bus.Transport, "bob", Enumerable.Range(1, 10).Select(i => Message("m" + i)));

        using (var first = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None))
        {
            for (var i = 1; i <= 3; i++)
            {
                var message = first.Receive(Soon).Message!;
                Assert.Equal("m" + i, message.Content);
                first.Acknowledge(message);
            }

            var unhanded = first.Receive(Soon).Message!; // received but never handed on: it must come again
            Assert.Equal("m4", unhanded.Content);
        }

        var started = Stopwatch.StartNew();
        using var second = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        var rest = new List<string>();
        for (var i = 4; i <= 10; i++)
        {
            var message = second.Receive(Soon).Message!;
            rest.Add(message.Content);
            second.Acknowledge(message);
        }

        Assert.True(Enumerable.Range(4, 7).Select(i => "m" + i).SequenceEqual(rest), string.Join(",", rest));
        Assert.True(started.Elapsed < BusTransport.AckWait / 3, $"took {started.Elapsed}: messages were not handed back but waited for AckWait");
    }

    [SkippableFact]
    public void RetriedSend_WithTheSameId_IsDeliveredOnce()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        var message = Message("only once");
        SendAll(bus.Transport, "bob", [message, message, message]);

        using var receiver = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        var got = receiver.Receive(Soon).Message!;
        receiver.Acknowledge(got);
        Assert.Equal(message.Id, got.Id);
        Assert.True(receiver.Receive(Deadline.After(TimeSpan.FromMilliseconds(300))).IsTimeout);
    }

    [SkippableFact]
    public void EmptyInbox_TimesOutWithinTenPercent()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        using var receiver = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        foreach (var seconds in new[] { 1.0, 2.0 })
        {
            var started = Stopwatch.StartNew();
            Assert.True(receiver.Receive(Deadline.After(TimeSpan.FromSeconds(seconds))).IsTimeout);
            var elapsed = started.Elapsed.TotalSeconds;
            Assert.InRange(elapsed, seconds * 0.9, seconds * 1.1);
        }
    }

    [SkippableFact]
    public void Cancellation_EndsAWaitWithin100Milliseconds()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        using var cancel = new CancellationTokenSource();
        using var receiver = bus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, cancel.Token);
        Exception? thrown = null;
        var endedAt = 0L;
        // A thread of its own, as a cmdlet's pipeline thread or an agent's is, not a pool thread.
        var waiter = new Thread(() =>
        {
            try
            {
                receiver.Receive(Deadline.Infinite);
            }
            catch (OperationCanceledException ex)
            {
                thrown = ex;
            }

            endedAt = Stopwatch.GetTimestamp();
        });
        waiter.Start();
        Thread.Sleep(300); // let the receive start waiting; what is measured is the time after Cancel
        var cancelledAt = Stopwatch.GetTimestamp();
        cancel.Cancel();
        Assert.True(waiter.Join(TimeSpan.FromSeconds(5)));
        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
        var took = Stopwatch.GetElapsedTime(cancelledAt, endedAt);
        Assert.True(took < TimeSpan.FromMilliseconds(100), $"took {took}");
    }

    [SkippableFact]
    public void OversizedAndMalformedDeliveries_AreErrors_AndTheNextMessageStillArrives()
    {
        var (server, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        var subject = bus.Transport.Locate("bob");
        var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        try
        {
            var js = new NATS.Client.JetStream.NatsJSContext(raw);
            js.PublishAsync(subject, new byte[] { 0xC3, 0x28 }).AsTask().GetAwaiter().GetResult().EnsureSuccess(); // invalid UTF-8
        }
        finally
        {
            raw.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        SendAll(bus.Transport, "bob", [Message(new string('x', 2000)), Message("after")]);
        using var receiver = bus.Transport.OpenReceiver("bob", 1000, GryphLog.None, CancellationToken.None);
        Assert.Equal("GryphMessageMalformed", receiver.Receive(Soon).Error!.ErrorId);
        Assert.Equal("GryphMessageTooLarge", receiver.Receive(Soon).Error!.ErrorId);
        var next = receiver.Receive(Soon).Message!;
        receiver.Acknowledge(next);
        Assert.Equal("after", next.Content);
        Assert.True(receiver.Receive(Deadline.After(TimeSpan.FromMilliseconds(300))).IsTimeout, "a dropped message came back");
    }

    [SkippableFact]
    public void MessageOverTheServersMaxPayload_IsRefusedBeforeSending()
    {
        var (_, bus) = Connected();
        bus.Transport.CreateEndpoint("bob");
        using var sender = bus.Transport.OpenSender("bob", Soon, GryphLog.None, CancellationToken.None);
        var error = Assert.Throws<GryphgenException>(() => sender.Send(Message(new string('x', (int)bus.MaxPayload + 1)), Soon));
        Assert.Equal("GryphMessageTooLarge", error.ErrorId);
        Assert.Equal(0, bus.Transport.Describe("bob")!.Messages);
    }
}

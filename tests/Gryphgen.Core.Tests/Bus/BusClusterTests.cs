using System.Globalization;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.Tests;
using Xunit;
using Xunit.Abstractions;

namespace Gryphgen.Core.Tests.Bus;

/// <summary>A 3-node cluster with an endpoint of 3 replicas keeps every acknowledged message when a node dies mid-stream.</summary>
public sealed class BusClusterTests(ITestOutputHelper output)
{
    private const int Count = 10_000;

    [SkippableFact]
    public void NodeKilledDuringATenThousandMessageStream_EveryAcknowledgedMessageIsDelivered()
    {
        using var cluster = NatsTestCluster.Start(3);
        var options = new BusConnectionOptions { Urls = cluster.Url.Split(','), Namespace = "cluster", Replicas = 3, ConnectTimeout = TimeSpan.FromSeconds(5) };
        using var publisherBus = GryphBus.Connect(options);
        publisherBus.Transport.CreateEndpoint("bob");
        Assert.Equal(3, publisherBus.Transport.Describe("bob")!.Replicas);

        // The node the publisher talks to dies a fifth of the way in, so it must fail over mid-stream.
        var victim = cluster.Servers.Single(s => publisherBus.ConnectedServer!.EndsWith(":" + s.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var acknowledged = new List<string>(Count);
        var failed = 0;
        using (var sender = publisherBus.Transport.OpenSender("bob", Deadline.After(TimeSpan.FromSeconds(10)), GryphLog.None, CancellationToken.None))
        {
            for (var i = 0; i < Count; i++)
            {
                if (i == Count / 5)
                {
                    victim.Kill();
                    output.WriteLine($"killed {victim.ServerName} after {i} messages");
                }

                var message = new GryphMessage { Id = GryphMessage.NewId(), From = "alice", Timestamp = DateTime.UtcNow, Content = i.ToString(CultureInfo.InvariantCulture) };
                try
                {
                    sender.Send(message, Deadline.After(TimeSpan.FromSeconds(30)));
                    acknowledged.Add(message.Content);
                }
                catch (GryphgenException ex)
                {
                    failed++; // not acknowledged: the sender was told, so it may or may not arrive
                    output.WriteLine($"message {i} not acknowledged: {ex.Message}");
                }
            }
        }

        output.WriteLine($"{acknowledged.Count} acknowledged, {failed} not; publisher now on {publisherBus.ConnectedServer}");
        Assert.True(acknowledged.Count >= Count - 10, $"only {acknowledged.Count} of {Count} were acknowledged");

        using var receiverBus = GryphBus.Connect(options);
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        using (var receiver = receiverBus.Transport.OpenReceiver("bob", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None))
        {
            while (true)
            {
                var result = receiver.Receive(Deadline.After(TimeSpan.FromSeconds(5)));
                if (result.Message is not { } message)
                {
                    break;
                }

                delivered.Add(message.Content);
                receiver.Acknowledge(message);
            }
        }

        var missing = acknowledged.Where(a => !delivered.Contains(a)).ToArray();
        Assert.True(missing.Length == 0, $"{missing.Length} acknowledged message(s) were never delivered, e.g. {string.Join(", ", missing.Take(5))}");
    }
}

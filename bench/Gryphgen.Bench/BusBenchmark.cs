using System.Diagnostics;
using System.Globalization;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.Tests;

namespace Gryphgen.Bench;

/// <summary>
/// The same message paths over NATS on loopback (a nats-server with JetStream started here, as the tests start
/// theirs): round trips between two processes through durable endpoints, one-way throughput of small messages,
/// and bulk 1 MiB messages. Printed next to the FIFO figures of the same run.
/// </summary>
internal static class BusBenchmark
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var roundTrips = int.Parse(BenchArguments.Option(args, "--round-trips") ?? "2000", Invariant);
        var messages = int.Parse(BenchArguments.Option(args, "--messages") ?? "10000", Invariant);
        var bulkMessages = int.Parse(BenchArguments.Option(args, "--bulk-messages") ?? "128", Invariant);
        if (NatsTestServer.BinaryPath is null)
        {
            Console.WriteLine("bus: skipped, nats-server is not installed (apt-get install nats-server)");
            return 0;
        }

        using var server = NatsTestServer.Start(new NatsTestServerOptions { MaxPayload = 8L * 1024 * 1024 });
        var ns = "bench" + Guid.NewGuid().ToString("N")[..8];
        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [server.Url], Namespace = ns });
        foreach (var endpoint in new[] { "ping", "pong", "oneway", "bulk" })
        {
            bus.Transport.CreateEndpoint(endpoint);
        }

        var (p50, p99, perSecond) = RoundTrips(bus, server.Url, ns, roundTrips);
        Console.WriteLine(string.Create(Invariant,
            $"bus round trip (64 B, JetStream, 2 processes): p50 {p50:F1} us, p99 {p99:F1} us, {perSecond:F0}/s (compare the fifo round trip above)"));
        var (sent, received) = OneWay(bus, "oneway", messages, 64);
        Console.WriteLine(string.Create(Invariant,
            $"bus one-way ({messages} x 64 B, queued as Send-GryphMessage does, each stored and confirmed): sent {sent:F0}/s, received and acknowledged {received:F0}/s"));
        var (bulkSent, bulkReceived) = OneWay(bus, "bulk", bulkMessages, 1024 * 1024);
        Console.WriteLine(string.Create(Invariant,
            $"bus bulk ({bulkMessages} x 1 MiB): sent {bulkSent * 1024 * 1024 / 1e9:F2} GB/s, received {bulkReceived * 1024 * 1024 / 1e9:F2} GB/s (compare the fifo bulk above)"));
        return 0;
    }

    /// <summary>The echo side of the round trips, in its own process.</summary>
    public static int RunEcho(string[] args)
    {
        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [args[0]], Namespace = args[1] });
        var count = int.Parse(args[2], Invariant);
        using var receiver = bus.Transport.OpenReceiver("ping", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        using var sender = bus.Transport.OpenSender("pong", Deadline.After(TimeSpan.FromSeconds(30)), GryphLog.None, CancellationToken.None);
        for (var i = 0; i < count; i++)
        {
            var message = receiver.Receive(Deadline.After(TimeSpan.FromSeconds(60))).Message ?? throw new TimeoutException("no ping");
            sender.Send(new GryphMessage { Id = GryphMessage.NewId(), From = "echo", ReplyTo = message.Id, Timestamp = DateTime.UtcNow, Content = message.Content }, Deadline.After(TimeSpan.FromSeconds(30)));
            receiver.Acknowledge(message);
        }

        return 0;
    }

    private static (double P50, double P99, double PerSecond) RoundTrips(GryphBus bus, string url, string ns, int count)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (self.EndsWith("dotnet", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(BusBenchmark).Assembly.Location);
        }

        foreach (var argument in new[] { "bus-echo", url, ns, (count + 100).ToString(Invariant) })
        {
            start.ArgumentList.Add(argument);
        }

        using var echo = Process.Start(start)!;
        using var sender = bus.Transport.OpenSender("ping", Deadline.After(TimeSpan.FromSeconds(30)), GryphLog.None, CancellationToken.None);
        using var receiver = bus.Transport.OpenReceiver("pong", FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        var content = new string('x', 64);
        var samples = new double[count];
        var total = Stopwatch.StartNew();
        for (var i = -100; i < count; i++) // 100 warm-up rounds
        {
            var started = Stopwatch.GetTimestamp();
            sender.Send(new GryphMessage { Id = GryphMessage.NewId(), From = "bench", Timestamp = DateTime.UtcNow, Content = content }, Deadline.After(TimeSpan.FromSeconds(30)));
            var reply = receiver.Receive(Deadline.After(TimeSpan.FromSeconds(30))).Message ?? throw new TimeoutException("no pong");
            receiver.Acknowledge(reply);
            if (i == -1)
            {
                total.Restart();
            }

            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }

        var seconds = total.Elapsed.TotalSeconds;
        echo.WaitForExit(30_000);
        Array.Sort(samples);
        return (samples[count / 2], samples[(int)(count * 0.99)], count / seconds);
    }

    private static (double Sent, double Received) OneWay(GryphBus bus, string endpoint, int count, int size)
    {
        var content = new string('x', size);
        var watch = Stopwatch.StartNew();
        using (var sender = bus.Transport.OpenSender(endpoint, Deadline.After(TimeSpan.FromSeconds(30)), GryphLog.None, CancellationToken.None))
        {
            for (var i = 0; i < count; i++)
            {
                sender.Queue(new GryphMessage { Id = GryphMessage.NewId(), From = "bench", Timestamp = DateTime.UtcNow, Content = content }, Deadline.After(TimeSpan.FromSeconds(30)));
            }

            sender.Flush(Deadline.After(TimeSpan.FromSeconds(60)));
        }

        var sent = count / watch.Elapsed.TotalSeconds;
        watch.Restart();
        using (var receiver = bus.Transport.OpenReceiver(endpoint, FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None))
        {
            for (var i = 0; i < count; i++)
            {
                var message = receiver.Receive(Deadline.After(TimeSpan.FromSeconds(30))).Message ?? throw new TimeoutException("a message is missing");
                receiver.Acknowledge(message);
            }
        }

        return (sent, count / watch.Elapsed.TotalSeconds);
    }
}

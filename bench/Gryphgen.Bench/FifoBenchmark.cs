using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Bench;

/// <summary>
/// FIFO benchmarks through Gryphgen.Core between two processes, each beside a baseline run in the same call:
/// round trips against ../shared/bench/fifo_pingpong.c (cc -O2) and against bench/c/fifo_pingpong_poll.c (the same
/// in C, waiting as Gryphgen does), and bulk and contended throughput. The round trips run unpinned, all on one
/// CPU (--one-cpu, under taskset), or one process on each of two CPUs (--two-cpus, under taskset -c 0).
/// </summary>
internal static class FifoBenchmark
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var roundTrips = int.Parse(BenchArguments.Option(args, "--round-trips") ?? "20000", Invariant);
        var bulkMessages = int.Parse(BenchArguments.Option(args, "--bulk-messages") ?? "1024", Invariant);
        var directory = Directory.CreateTempSubdirectory("gryph-bench-").FullName;
        try
        {
            if (args.Contains("--bulk-only"))
            {
                PrintBulk(directory, bulkMessages);
                return 0;
            }

            // --two-cpus: run under `taskset -c 0`; each pair's second process goes to CPU 1 (see ChildCpu).
            int? childCpu = args.Contains("--two-cpus") ? 1 : null;
            var c = RunC(SharedBaseline, roundTrips, childCpu);
            var cWaitingAsGryphgen = RunC(PollingBaseline, roundTrips, childCpu);
            var (p50, p99, perSecond) = RoundTrips(directory, roundTrips, 64, childCpu);
            var placement = childCpu is not null ? ", one process on each of two CPUs"
                : Environment.ProcessorCount == 1 || args.Contains("--one-cpu") ? ", all on one CPU"
                : string.Empty;
            Console.WriteLine(string.Create(Invariant,
                $"fifo round trip (64 B{placement}): Gryphgen p50 {p50:F1} us, p99 {p99:F1} us, {perSecond:F0}/s; C baseline p50 {c.P50:F1} us, p99 {c.P99:F1} us, {c.PerSecond:F0}/s; p50 ratio {p50 / c.P50:F2}x C (target <= 1.5x)"));
            Console.WriteLine(string.Create(Invariant,
                $"  C waiting as Gryphgen does (bench/c/fifo_pingpong_poll.c: up to 50 us of adaptive busy polling, else poll; then prefix and rest): p50 {cWaitingAsGryphgen.P50:F1} us, {cWaitingAsGryphgen.P50 / c.P50:F2}x the C baseline; Gryphgen {p50 / cWaitingAsGryphgen.P50:F2}x it"));
            if (args.Contains("--round-trip-only"))
            {
                return 0;
            }

            var bulk = PrintBulk(directory, bulkMessages);
            var contended = Bulk(directory, bulkMessages / 2, 512 * 1024, senders: 8);
            Console.WriteLine(string.Create(Invariant, $"fifo contended (512 KiB messages, 8 senders, one pipe): {contended / 1e9:F2} GB/s, {contended / bulk:F2}x the single sender"));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double PrintBulk(string directory, int messages)
    {
        var released = Bulk(directory, messages, 1024 * 1024, senders: 1);
        var dropped = Bulk(directory, messages, 1024 * 1024, senders: 1, BulkConsumer.Drop);
        var strings = Bulk(directory, messages, 1024 * 1024, senders: 1, BulkConsumer.ReadContent);
        var ceiling = StringCeiling(messages, 1024 * 1024);
        var settings = Environment.GetEnvironmentVariable("DOTNET_GCLOHThreshold") is { } threshold ? $", DOTNET_GCLOHThreshold={threshold}" : string.Empty;
        Console.WriteLine(string.Create(Invariant,
            $"fifo bulk (1 MiB messages, 1 sender{settings}): {released / 1e9:F2} GB/s received and released (target >= 1 GB/s); {dropped / 1e9:F2} GB/s received and left to the collector; {strings / 1e9:F2} GB/s with every Content read as a string (as Receive-GryphMessage does); UTF-8 decoding into new strings alone (no pipe): {ceiling / 1e9:F2} GB/s"));
        return released;
    }

    /// <summary>Child process roles, started by the benchmark itself.</summary>
    public static int RunChild(string role, string[] args)
    {
        var deadline = Deadline.After(TimeSpan.FromMinutes(5));
        switch (role)
        {
            case "fifo-echo":
            {
                using var receiver = GryphMessageReceiver.Open(args[0], "echo", false, FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
                using var sender = GryphMessageSender.Open(args[1], false, deadline, GryphLog.None, CancellationToken.None);
                var count = int.Parse(args[2], Invariant);
                for (var i = 0; i < count; i++)
                {
                    var message = receiver.Receive(deadline).Message ?? throw new InvalidOperationException("echo: no message");
                    sender.Send(message, deadline);
                    message.Release();
                }

                return 0;
            }

            case "fifo-send":
            {
                using var sender = GryphMessageSender.Open(args[0], false, deadline, GryphLog.None, CancellationToken.None);
                var count = int.Parse(args[1], Invariant);
                var message = Message(new string('b', int.Parse(args[2], Invariant)));
                for (var i = 0; i < count; i++)
                {
                    sender.Send(message, deadline);
                }

                return 0;
            }

            case "fifo-codec":
            {
                // Encode and decode alone, no pipe: how much of the bulk figure is the codec.
                var message = Message(new string('c', 1024 * 1024));
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < 512; i++)
                {
                    var (buffer, length) = FrameFormat.Encode(message);
                    _ = FrameFormat.TryParsePrefix(buffer, out var header, out var body);
                    _ = FrameFormat.Decode(buffer.AsSpan(FrameFormat.PrefixLength, header), buffer.AsMemory(FrameFormat.PrefixLength + header, (int)body)).Content;
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }

                Console.WriteLine(string.Create(Invariant, $"codec: {512.0 * 1024 * 1024 / clock.Elapsed.TotalSeconds / 1e9:F2} GB/s encode+decode"));
                return 0;
            }

            default:
                return 2;
        }
    }

    /// <summary>The physical-limit baseline the targets are ratios to: blocking reads of a known length.</summary>
    private static string SharedBaseline => Path.GetFullPath(Path.Combine(BenchArguments.RepositoryRoot(), "..", "shared", "bench", "fifo_pingpong.c"));

    /// <summary>
    /// The same round trip in C under Gryphgen's rules (no thread blocked in read, no read past a frame) and with its
    /// busy polling: what is left between it and Gryphgen is managed code.
    /// </summary>
    private static string PollingBaseline => Path.Combine(BenchArguments.RepositoryRoot(), "bench", "c", "fifo_pingpong_poll.c");

    /// <summary>
    /// The LD_PRELOAD shim that moves a forked child to another CPU (bench/c/pin_after_fork.c), so the C baselines,
    /// which fork their peer, can be placed one process per CPU as Gryphgen's pair is.
    /// </summary>
    private static string ChildPinningShim => Path.Combine(BenchArguments.RepositoryRoot(), "bench", "c", "pin_after_fork.c");

    /// <summary>
    /// Compiles <paramref name="source"/> with cc -O2 and runs it; it prints fifo_pingpong.c's fields. With
    /// <paramref name="childCpu"/>, the process it forks runs on that CPU.
    /// </summary>
    private static (double P50, double P99, double PerSecond) RunC(string source, int roundTrips, int? childCpu = null)
    {
        var binary = Path.Combine(Path.GetTempPath(), "gryph-" + Path.GetFileNameWithoutExtension(source).Replace('_', '-'));
        Exec("cc", "-O2", "-o", binary, source);
        var environment = new Dictionary<string, string>();
        if (childCpu is { } cpu)
        {
            var shim = Path.Combine(Path.GetTempPath(), "gryph-pin-after-fork.so");
            Exec("cc", "-O2", "-shared", "-fPIC", "-o", shim, ChildPinningShim);
            environment["LD_PRELOAD"] = shim;
            environment["GRYPH_CHILD_CPU"] = cpu.ToString(Invariant);
        }

        var output = Exec(binary, environment, roundTrips.ToString(Invariant), "64");
        double Field(string name) => double.Parse(output.Split(' ').Single(f => f.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..], Invariant);
        return (Field("p50_us"), Field("p99_us"), Field("per_second"));
    }

    private static (double P50, double P99, double PerSecond) RoundTrips(string directory, int count, int size, int? childCpu = null)
    {
        var a2b = Fifo(directory, "rt-a2b");
        var b2a = Fifo(directory, "rt-b2a");
        var deadline = Deadline.After(TimeSpan.FromMinutes(5));
        using var child = StartChild(childCpu, "fifo-echo", a2b, b2a, count.ToString(Invariant));
        using var inbox = GryphMessageReceiver.Open(b2a, "bench", false, FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
        using var sender = GryphMessageSender.Open(a2b, false, deadline, GryphLog.None, CancellationToken.None);
        var message = Message(new string('p', size));
        var latencies = new double[count];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            sender.Send(message, deadline);
            (inbox.Receive(deadline).Message ?? throw new InvalidOperationException("no echo")).Release();
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        total.Stop();
        child.WaitForExit();
        Array.Sort(latencies);
        return (latencies[count / 2], latencies[(int)(count * 0.99)], count / total.Elapsed.TotalSeconds);
    }

    /// <summary>What the receiving side does with each message in <see cref="Bulk"/>.</summary>
    private enum BulkConsumer
    {
        /// <summary>Counts its bytes and releases it (GryphMessage.Release): the next is read into the same memory.</summary>
        Release,

        /// <summary>Counts its bytes and drops it to the collector, as code that never calls Release does.</summary>
        Drop,

        /// <summary>Reads its Content (a new string), then releases it, as Receive-GryphMessage does before emitting it.</summary>
        ReadContent,
    }

    /// <summary>Bytes per second received as messages by a consumer doing what <paramref name="consumer"/> says.</summary>
    private static double Bulk(string directory, int messagesPerSender, int size, int senders, BulkConsumer consumer = BulkConsumer.Release)
    {
        var path = Fifo(directory, $"bulk-{senders}");
        using var inbox = GryphMessageReceiver.Open(path, "bench", false, 4L * size, GryphLog.None, CancellationToken.None);
        var children = Enumerable.Range(0, senders)
            .Select(_ => StartChild("fifo-send", path, messagesPerSender.ToString(Invariant), size.ToString(Invariant)))
            .ToArray();
        var deadline = Deadline.After(TimeSpan.FromMinutes(5));
        Stopwatch? clock = null;
        long bytes = 0;
        for (var i = 0; i < messagesPerSender * senders; i++)
        {
            var message = inbox.Receive(deadline).Message ?? throw new InvalidOperationException("bulk: missing message");
            clock ??= Stopwatch.StartNew(); // from the first message: process start-up is not throughput
            bytes += consumer == BulkConsumer.ReadContent ? Encoding.UTF8.GetByteCount(message.Content) : message.Bytes;
            if (consumer != BulkConsumer.Drop)
            {
                message.Release();
            }
        }

        var seconds = clock!.Elapsed.TotalSeconds;
        foreach (var child in children)
        {
            child.WaitForExit();
            child.Dispose();
        }

        return bytes / seconds;
    }

    /// <summary>
    /// What the receiver cannot avoid: each message's content becomes a new string (on the large object heap
    /// above 85 KB). Decoding the same bytes into as many strings, with no pipe and no frames, bounds the bulk figure.
    /// </summary>
    private static double StringCeiling(int count, int size)
    {
        var bytes = new byte[size];
        Array.Fill(bytes, (byte)'b');
        var utf8 = new System.Text.UTF8Encoding(false, true);
        long total = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            total += utf8.GetString(bytes).Length;
        }

        return total / clock.Elapsed.TotalSeconds;
    }

    private static GryphMessage Message(string content) =>
        new() { Id = GryphMessage.NewId(), From = "bench", Timestamp = DateTime.UtcNow, Content = content, Bytes = content.Length };

    private static string Fifo(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        FifoFile.Create(path, FifoFile.DefaultMode, force: true, allowShared: false);
        return path;
    }

    private static Process StartChild(string role, params string[] args) => StartChild(null, role, args);

    /// <summary>Starts this program in <paramref name="role"/>; with <paramref name="cpu"/>, on that CPU only (taskset).</summary>
    private static Process StartChild(int? cpu, string role, params string[] args)
    {
        var start = new ProcessStartInfo(cpu is null ? Environment.ProcessPath! : "taskset") { UseShellExecute = false };
        if (cpu is not null)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(cpu.Value.ToString(Invariant));
            start.ArgumentList.Add(Environment.ProcessPath!);
        }

        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        }

        start.ArgumentList.Add(role);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    private static string Exec(string file, params string[] args) => Exec(file, new Dictionary<string, string>(), args);

    private static string Exec(string file, Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}");
        }

        return output.Trim();
    }
}

using System.Diagnostics;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Fifo;

[Collection(DescriptorCountingGroup.Name)]
public sealed class FifoMessagingTests : FifoTestBase
{
    private static GryphMessage Message(string content) =>
        new() { Id = GryphMessage.NewId(), From = "t", Timestamp = DateTime.UtcNow, Content = content, Bytes = System.Text.Encoding.UTF8.GetByteCount(content) };

    [Fact]
    public void Create_MakesA0600FifoAndIsIdempotent()
    {
        var path = NewFifo();
        var status = UnixFileStatus.OfPath(path)!.Value;
        Assert.True(status.IsFifo);
        Assert.Equal(0x180u, status.Permissions);
        Assert.Equal(FifoFile.Outcome.AlreadyExisted, FifoFile.Create(path, FifoFile.DefaultMode, false, false));
        Assert.Equal(FifoFile.Outcome.Recreated, FifoFile.Create(path, FifoFile.DefaultMode, true, false));
    }

    [Fact]
    public void Create_RefusesAnExistingRegularFileAndLeavesItAlone()
    {
        var path = Dir.File("data.txt");
        File.WriteAllText(path, "keep me");
        var error = Assert.Throws<GryphgenException>(() => FifoFile.Create(path, FifoFile.DefaultMode, force: true, allowShared: false));
        Assert.Equal("GryphPipePathOccupied", error.ErrorId);
        Assert.Equal("keep me", File.ReadAllText(path));
        Assert.Equal("GryphPipeNotFifo", Assert.Throws<GryphgenException>(() => FifoFile.Remove(path)).ErrorId);
    }

    [Fact]
    public void RoundTrip_IsByteExactForAnyContent()
    {
        var path = NewFifo();
        string[] contents = ["", "multi\nline\r\ncontent\n", "🦙 Unicode: 日本語, Ελληνικά, עברית", new string('z', 300_000)];
        using var receiver = OpenReceiver(path);
        var sending = Task.Run(() =>
        {
            using var sender = GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(10)), GryphLog.None, CancellationToken.None);
            foreach (var content in contents)
            {
                sender.Send(Message(content), Deadline.After(TimeSpan.FromSeconds(10)));
            }
        });
        var received = contents.Select(_ => receiver.Receive(Deadline.After(TimeSpan.FromSeconds(10))).Message!.Content).ToArray();
        sending.GetAwaiter().GetResult();
        Assert.Equal(contents, received);
    }

    [Fact]
    public void Receiver_ThatStopsAfterN_LeavesEveryLaterMessageForTheNextReceiver()
    {
        var path = NewFifo();
        var first = OpenReceiver(path);
        using var sender = GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(5)), GryphLog.None, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            sender.Send(Message($"message {i}"), Deadline.After(TimeSpan.FromSeconds(5)));
        }

        var firstThree = Enumerable.Range(0, 3).Select(_ => first.Receive(Deadline.After(TimeSpan.FromSeconds(5))).Message!.Content).ToArray();
        first.Dispose();
        using var second = OpenReceiver(path);
        var rest = Enumerable.Range(0, 7).Select(_ => second.Receive(Deadline.After(TimeSpan.FromSeconds(5))).Message!.Content).ToArray();
        Assert.Equal(Enumerable.Range(0, 3).Select(i => $"message {i}"), firstThree);
        Assert.Equal(Enumerable.Range(3, 7).Select(i => $"message {i}"), rest);
    }

    [Fact]
    public void QueuedFrames_AreTakenWithOneReadEach_AndTheRestStayForTheNextReceiver()
    {
        var path = NewFifo();
        var fifo = FifoReader.Open(path, allowShared: false, CancellationToken.None);
        var frames = new GryphFrameReader(fifo, FrameFormat.DefaultMaxMessageBytes, path);
        using var sender = GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(5)), GryphLog.None, CancellationToken.None);
        var contents = Enumerable.Range(0, 200).Select(i => $"message {i} " + new string('q', i * 37)).ToArray();
        foreach (var content in contents)
        {
            sender.Queue(Message(content), Deadline.After(TimeSpan.FromSeconds(5)));
        }

        sender.Flush(Deadline.After(TimeSpan.FromSeconds(5)));
        var firstPart = Enumerable.Range(0, 120).Select(_ => frames.ReadNext(Deadline.After(TimeSpan.FromSeconds(5))).Message!.Content).ToArray();
        Assert.Equal(contents[..120], firstPart);
        Assert.Equal(120, fifo.ReadsTaken); // prefix and rest in one read per frame: tee(2) showed the prefixes

        fifo.Dispose(); // the sender still holds the pipe open, so its bytes stay for the next receiver
        using var next = OpenReceiver(path);
        var rest = Enumerable.Range(0, 80).Select(_ => next.Receive(Deadline.After(TimeSpan.FromSeconds(5))).Message!.Content).ToArray();
        Assert.Equal(contents[120..], rest);
    }

    [Fact]
    public void Sender_WithNoReader_FailsAtTheTimeoutAndLeaksNoDescriptor()
    {
        var path = NewFifo();
        GryphgenException Attempt(double seconds) => Assert.Throws<GryphgenException>(() =>
            GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(seconds)), GryphLog.None, CancellationToken.None));
        Attempt(0.05); // the runtime opens some descriptors lazily on first use; count after that
        var before = OpenDescriptors.Count();
        var clock = Stopwatch.StartNew();
        var error = Attempt(1);
        clock.Stop();
        Attempt(0.05);
        Assert.Equal("GryphPipeNoReader", error.ErrorId);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 1.1);
        Assert.Matches(@"in the (0\.9|1|1\.1) s this send waited", error.Message); // how long, so the user can tell a timeout from a refusal
        Assert.Contains("Receive-GryphMessage", error.Message, StringComparison.Ordinal); // and what has to be running
        Assert.Contains("Start-GryphAgent", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, OpenDescriptors.Count());
    }

    [Fact]
    public void Sender_WaitingForAReader_ProceedsAsSoonAsOneOpens()
    {
        var path = NewFifo();
        var opening = Task.Run(() => GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(10)), GryphLog.None, CancellationToken.None));
        Assert.False(opening.Wait(200));
        using var receiver = OpenReceiver(path);
        Assert.True(opening.Wait(2000), "the sender should be woken by the reader's open");
        opening.Result.Dispose();
    }

    [Fact]
    public void Receiver_WithNoWriter_TimesOutAtTheDeadline()
    {
        var path = NewFifo();
        var before = OpenDescriptors.Count();
        using (var receiver = OpenReceiver(path))
        {
            var clock = Stopwatch.StartNew();
            var result = receiver.Receive(Deadline.After(TimeSpan.FromSeconds(1)));
            Assert.True(result.IsTimeout);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 1.1);
        }

        Assert.Equal(before, OpenDescriptors.Count());
    }

    [Fact]
    public void Cancellation_EndsAWaitForAReaderWithin100Milliseconds()
    {
        var path = NewFifo();
        var before = OpenDescriptors.Count();
        using var stop = new CancellationTokenSource();
        var opening = Task.Run(() => GryphMessageSender.Open(path, false, Deadline.Infinite, GryphLog.None, stop.Token));
        Thread.Sleep(300); // let it reach poll(2); the assertion below is about how fast cancellation ends it
        var clock = Stopwatch.StartNew();
        stop.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => opening.GetAwaiter().GetResult());
        Assert.True(clock.ElapsedMilliseconds < 100, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(before, OpenDescriptors.Count());
    }

    [Fact]
    public void Cancellation_EndsAWaitForAWriterWithin100Milliseconds()
    {
        var path = NewFifo();
        using var stop = new CancellationTokenSource();
        var receiver = GryphMessageReceiver.Open(path, "inbox", false, 1024, GryphLog.None, stop.Token);
        var receiving = Task.Run(() => receiver.Receive(Deadline.Infinite));
        Thread.Sleep(300);
        var clock = Stopwatch.StartNew();
        stop.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => receiving.GetAwaiter().GetResult());
        Assert.True(clock.ElapsedMilliseconds < 100, $"took {clock.ElapsedMilliseconds} ms");
        receiver.Dispose();
    }

    [Fact]
    public void Receiver_SeesAWriterDyingMidFrame_AndTheNextWriterStillGetsThrough()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        var (frame, length) = FrameFormat.Encode(Message(new string('q', 1000)));
        using (var raw = FifoWriter.Open(path, false, Deadline.After(TimeSpan.FromSeconds(5)), CancellationToken.None))
        {
            raw.Write(frame.AsSpan(0, length / 2), Deadline.After(TimeSpan.FromSeconds(5)));
        }

        Assert.Equal("GryphFrameTruncated", receiver.Receive(Deadline.After(TimeSpan.FromSeconds(5))).Error?.ErrorId);
        using var sender = GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(5)), GryphLog.None, CancellationToken.None);
        sender.Send(Message("after the crash"), Deadline.After(TimeSpan.FromSeconds(5)));
        Assert.Equal("after the crash", receiver.Receive(Deadline.After(TimeSpan.FromSeconds(5))).Message?.Content);
    }

    [Fact]
    public void Symlink_WherePipeShouldBe_IsNeverFollowed()
    {
        var real = NewFifo("real");
        var link = Dir.File("planted");
        File.CreateSymbolicLink(link, real);
        Assert.Equal("GryphPipeIsSymlink", Assert.Throws<GryphgenException>(() => OpenReceiver(link)).ErrorId);
        Assert.Equal("GryphPipeIsSymlink", Assert.Throws<GryphgenException>(() =>
            GryphMessageSender.Open(link, true, Deadline.After(TimeSpan.FromSeconds(1)), GryphLog.None, CancellationToken.None)).ErrorId);
    }

    [Fact]
    public void GroupWritableFifo_IsRefusedUnlessShared()
    {
        var path = Dir.File("shared");
        FifoFile.Create(path, Convert.ToUInt32("660", 8), false, false);
        Assert.Equal("GryphPipeShared", Assert.Throws<GryphgenException>(() => OpenReceiver(path)).ErrorId);
        using var allowed = GryphMessageReceiver.Open(path, "x", allowShared: true, 1024, GryphLog.None, CancellationToken.None);
    }

    [Fact]
    public void PipeDirectory_IsCreated0700_AndASharedOneIsRefused()
    {
        var created = PipeDirectory.Ensure(Dir.File("pipes"), allowShared: false);
        Assert.Equal(0x1C0u, UnixFileStatus.OfPath(created)!.Value.Permissions);
        var open = Dir.File("open");
        Directory.CreateDirectory(open);
        File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("777", 8));
        Assert.Equal("GryphPipeDirectoryShared", Assert.Throws<GryphgenException>(() => PipeDirectory.Ensure(open, false)).ErrorId);
        var link = Dir.File("linked");
        Directory.CreateSymbolicLink(link, created);
        Assert.Equal("GryphPipeDirectoryIsSymlink", Assert.Throws<GryphgenException>(() => PipeDirectory.Ensure(link, false)).ErrorId);
    }

    [Fact]
    public void PipeDirectory_FollowsTheDocumentedOrder()
    {
        Assert.Equal("/x/y", PipeDirectory.Resolve(n => n == "GRYPHGEN_PIPE_DIR" ? "/x/y" : "/tmp"));
        Assert.Equal("/tmp/gryphgen", PipeDirectory.Resolve(n => n == "XDG_RUNTIME_DIR" ? "/tmp" : null));
        Assert.Equal($"/tmp/gryphgen-{FifoAccess.CurrentUserId}", PipeDirectory.Resolve(_ => null));
        Assert.Throws<GryphgenException>(() => PipeDirectory.EndpointPath("/d", "../escape"));
    }

    [Fact]
    public void PipeHolders_ShowsThisProcessAsReaderWithoutOpeningThePipe()
    {
        var path = NewFifo();
        Assert.Empty(PipeHolders.Find(path));
        using var receiver = OpenReceiver(path);
        var holder = Assert.Single(PipeHolders.Find(path));
        Assert.Equal(Environment.ProcessId, holder.ProcessId);
        Assert.True(holder.Reading);
    }

    [Fact]
    public void RawLines_AnOversizedLineIsOneErrorAndTheNextLineArrivesWhole()
    {
        var path = NewFifo();
        using var receiver = GryphMessageReceiver.Open(path, "inbox", false, 10, GryphLog.None, CancellationToken.None);
        using (var sender = GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(5)), GryphLog.None, CancellationToken.None))
        {
            sender.SendRaw("this line is far too long", Deadline.After(TimeSpan.FromSeconds(5)));
            sender.SendRaw("short", Deadline.After(TimeSpan.FromSeconds(5)));
        }

        Assert.Equal("GryphMessageTooLarge", receiver.ReceiveRaw(Deadline.After(TimeSpan.FromSeconds(5))).Error?.ErrorId);
        Assert.Equal("short", receiver.ReceiveRaw(Deadline.After(TimeSpan.FromSeconds(5))).Message?.Content);
    }

    [Fact]
    public void QueuedRawLines_ArriveExactlyAsQueued_WithNothingBetweenThem()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        var lines = Enumerable.Range(1, 2000).Select(i => $"line {i} " + new string('x', i % 50)).ToArray();
        using (var sender = GryphMessageSender.Open(path, false, Deadline.After(TimeSpan.FromSeconds(5)), GryphLog.None, CancellationToken.None))
        {
            foreach (var line in lines)
            {
                sender.QueueRaw(line, Deadline.After(TimeSpan.FromSeconds(5)));
            }

            sender.SendRaw("sent at once", Deadline.After(TimeSpan.FromSeconds(5)));
        }

        foreach (var line in lines.Append("sent at once"))
        {
            Assert.Equal(line, receiver.ReceiveRaw(Deadline.After(TimeSpan.FromSeconds(5))).Message?.Content);
        }

        Assert.True(receiver.ReceiveRaw(Deadline.After(TimeSpan.FromMilliseconds(100))).IsTimeout);
    }
}

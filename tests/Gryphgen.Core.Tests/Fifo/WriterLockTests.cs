using System.Diagnostics;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Tests.Fifo;

/// <summary>The holder of a pipe's writer lock sees who waits for it, so it keeps the lock only while nobody does.</summary>
[Collection(DescriptorCountingGroup.Name)]
public sealed class WriterLockTests : FifoTestBase
{
    [Fact]
    public void AGryphgenSenderWaitingForTheLock_IsSeenByTheHolder_AndNoLongerOnceItHasTheLock()
    {
        var path = NewFifo();
        using var reader = FifoReader.Open(path, allowShared: false, CancellationToken.None);
        using var holder = OpenWriter(path);
        using var waiter = OpenWriter(path);
        holder.Lock(Deadline.After(Patience), CancellationToken.None);
        Assert.False(holder.OthersWaitingForLock());

        var waiting = Task.Run(() => waiter.Lock(Deadline.After(Patience), CancellationToken.None));
        Assert.True(SpinWait.SpinUntil(holder.OthersWaitingForLock, Patience));

        holder.Unlock();
        Assert.True(waiting.Wait(Patience));
        Assert.False(waiter.OthersWaitingForLock());
        Assert.False(holder.OthersWaitingForLock()); // the waiter withdrew its announcement when it got the lock
        waiter.Unlock();
    }

    [Fact]
    public void APeerBlockedInFlock_IsSeenByTheHolder()
    {
        var path = NewFifo();
        using var reader = FifoReader.Open(path, allowShared: false, CancellationToken.None);
        using var holder = OpenWriter(path);
        holder.Lock(Deadline.After(Patience), CancellationToken.None);

        // A Python peer as the protocol tells it to write: a blocking flock(2) on the FIFO.
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)\nprint('waiting', flush=True)\nfcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)");
        start.ArgumentList.Add(path);
        using var peer = Process.Start(start)!;
        Assert.Equal("waiting", peer.StandardOutput.ReadLine());
        Assert.True(SpinWait.SpinUntil(holder.OthersWaitingForLock, Patience));

        holder.Unlock();
        Assert.Equal("locked", peer.StandardOutput.ReadLine());
        Assert.True(peer.WaitForExit(Patience));
        Assert.False(holder.OthersWaitingForLock());
    }

    [Fact]
    public void ProcLocksWaiterLines_AreMatchedByInode()
    {
        const string locks = """
            1: FLOCK  ADVISORY  WRITE 1200 00:1a:5678 0 EOF
            1: -> FLOCK  ADVISORY  WRITE 1300 00:1a:5678 0 EOF
            2: POSIX  ADVISORY  WRITE 1400 00:1a:9999 0 EOF
            2: -> POSIX  ADVISORY  WRITE 1500 00:1a:9999 0 EOF
            3: OFDLCK ADVISORY  WRITE -1 00:1a:4444 0 0
            """;
        Assert.True(FlockWaiters.AnyBlockedOn(locks, 5678));
        Assert.False(FlockWaiters.AnyBlockedOn(locks, 9999)); // a waiter for a POSIX lock is not waiting for the flock
        Assert.False(FlockWaiters.AnyBlockedOn(locks, 4444));
        Assert.False(FlockWaiters.AnyBlockedOn(locks, 678)); // the whole inode, not its tail
    }

    [Fact]
    public void ALoneSenderThatKeepsSending_KeepsTheLockWellPastTheHoldLimit()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        using var sender = OpenSender(path);
        var message = new GryphMessage { Id = GryphMessage.NewId(), From = "lone", Timestamp = DateTime.UtcNow, Content = "ping" };
        var sent = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < 5 * GryphMessageSender.LockHoldLimit)
        {
            sender.Send(message, Deadline.After(Patience)); // a conversation's pace: each message read before the next
            receiver.Receive(Deadline.After(Patience)).Message!.Release();
            sent++;
        }

        // Nobody waits, so no turns: one lock, plus one more for each pause over LockIdleRelease the scheduler
        // may cause. Taking turns every LockHoldLimit would lock once per message for a third of the time.
        Assert.True(sender.LocksTaken < Math.Max(10, sent / 20), $"{sender.LocksTaken} locks for {sent} messages");
    }

    [Fact]
    public void ASenderInAConversation_RunsNoTimerCallback_OnlyAPauseOverTheIdlePeriodDoes()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        using var sender = OpenSender(path);
        var message = new GryphMessage { Id = GryphMessage.NewId(), From = "talker", Timestamp = DateTime.UtcNow, Content = "ping" };
        var sent = 0;

        // Wake-ups the scheduler's stalls may cause. Twenty milliseconds without a write wake the timer once; if
        // the stall is inside Send (the sender busy), the timer finds it busy and looks again every
        // QueueFlushDelay until the call returns. A write happens somewhere inside its Send, so the time from
        // one Send's start to the next Send's end bounds the gap between two writes from above.
        var pauses = 0;
        int WakeUpsAllowedFor(TimeSpan gap) =>
            gap < GryphMessageSender.LockIdleRelease ? 0 : 1 + (int)((gap - GryphMessageSender.LockIdleRelease) / GryphMessageSender.QueueFlushDelay);
        var clock = Stopwatch.StartNew();
        var previousSendStart = clock.Elapsed;

        // Shorter than LockHoldLimitUnseen, when a lone sender takes its fairness turn: timed work of its own.
        while (clock.Elapsed < GryphMessageSender.LockHoldLimitUnseen * 0.75)
        {
            var sendStart = clock.Elapsed;
            sender.Send(message, Deadline.After(Patience));
            pauses += WakeUpsAllowedFor(clock.Elapsed - previousSendStart);
            previousSendStart = sendStart;
            receiver.Receive(Deadline.After(Patience)).Message!.Release();
            sent++;
        }

        var wakeUps = sender.TimerWakeUps;
        pauses += WakeUpsAllowedFor(clock.Elapsed - previousSendStart);

        // Each write moves the idle release 20 ms past itself, which wakes nothing; only silence lets it fire. The
        // old timer fired every 20 ms of the conversation (6 to 8 times here), each a timer-thread and thread-pool
        // hand-off after which the pool worker spun: a tenth of the round trips on a 2-core machine.
        Assert.True(sent > 100, $"only {sent} messages in {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(wakeUps <= pauses, $"{wakeUps} timer wake-ups for {sent} messages in {clock.Elapsed.TotalMilliseconds:F0} ms where stalls allow {pauses}");
    }

    [Fact]
    public void AQueuedFrame_IsWrittenWithinTheFlushDelay_NotAtTheIdleRelease()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        using var sender = OpenSender(path);
        GryphMessage Message(string content) => new() { Id = GryphMessage.NewId(), From = "q", Timestamp = DateTime.UtcNow, Content = content };

        // Everything compiled and the timer fired once first: a frame queued over a millisecond after the last
        // write goes at once, unqueued, and the first timer callback pays for a thread and its compilation.
        sender.Queue(Message("warm-up"), Deadline.After(Patience));
        Assert.Equal("warm-up", receiver.Receive(Deadline.After(Patience)).Message!.Content);
        Assert.True(SpinWait.SpinUntil(() => sender.TimerWakeUps > 0, Patience));

        // A write sets the timer for the idle release (LockIdleRelease, 20 ms); a frame queued right after it
        // must pull the timer in to QueueFlushDelay (4 ms) rather than wait for the release. A frame queued more
        // than the flush delay after the write goes at once instead, so on a loaded machine, where this thread can
        // lose the CPU between the two calls, the pair is tried again until the frame was queued in time.
        for (var attempt = 1; ; attempt++)
        {
            // Start from an idle sender: an idle release still pending from the warm-up or an earlier attempt
            // would otherwise wake the timer once more inside this one.
            Assert.True(SpinWait.SpinUntil(() => !sender.HoldsLock, Patience));
            var wakeUps = sender.TimerWakeUps;
            sender.Send(Message("sent"), Deadline.After(Patience));
            var clock = Stopwatch.StartNew();
            sender.Queue(Message("queued"), Deadline.After(Patience));
            var queuedWithin = clock.Elapsed;
            Assert.Equal("sent", receiver.Receive(Deadline.After(Patience)).Message!.Content);
            Assert.Equal("queued", receiver.Receive(Deadline.After(Patience)).Message!.Content);
            var arrivedWithin = clock.Elapsed;
            if (queuedWithin >= GryphMessageSender.QueueFlushDelay / 2 && attempt < 20)
            {
                continue;
            }

            Assert.True(queuedWithin < GryphMessageSender.QueueFlushDelay / 2, $"never queued within half the flush delay in {attempt} attempts");
            Assert.True(arrivedWithin < GryphMessageSender.LockIdleRelease * 0.75, $"the queued frame arrived after {arrivedWithin.TotalMilliseconds:F1} ms");
            Assert.Equal(wakeUps + 1, sender.TimerWakeUps); // the flush, not a write at once
            Assert.True(sender.HoldsLock); // flushed by the flush timer, still within the idle period
            Assert.Equal(0, sender.FlushesLeftToThreadPool); // the pipe had room: written on the timer's thread
            break;
        }
    }

    [Fact]
    public void AFlushIntoAFullPipe_IsFinishedFromThePool_WithoutHoldingUpOtherSendersTimers()
    {
        using var headroom = new ThreadPoolHeadroom(); // the unfinished flush goes to the pool
        var full = NewFifo("full");
        var other = NewFifo("other");
        using var fullReceiver = OpenReceiver(full);
        using var otherReceiver = OpenReceiver(other);
        using var stuck = OpenSender(full);
        using var idle = OpenSender(other);
        GryphMessage Message(string content) => new() { Id = GryphMessage.NewId(), From = "f", Timestamp = DateTime.UtcNow, Content = content };
        ShrinkPipe(full, 4096); // one page: a 16 KiB frame cannot go in whole

        // The first message goes at once; the two right behind it are queued (whichever starts a new batch less
        // than QueueFlushDelay after a write waits for the timer), and the timer's write finds no room for them.
        var big = new string('q', 16 * 1024);
        stuck.Send(Message("first"), Deadline.After(Patience));
        stuck.Queue(Message("second"), Deadline.After(Patience));
        stuck.Queue(Message(big), Deadline.After(Patience));
        Assert.True(SpinWait.SpinUntil(() => stuck.FlushesLeftToThreadPool > 0, Patience), "the flush never gave up on the full pipe");

        // The other sender's idle release runs on the timer's thread while that flush waits for room.
        var clock = Stopwatch.StartNew();
        idle.Send(Message("hello"), Deadline.After(Patience));
        Assert.True(SpinWait.SpinUntil(() => !idle.HoldsLock, Patience), "the idle release never came");
        Assert.True(clock.Elapsed >= 0.9 * GryphMessageSender.LockIdleRelease, $"released after {clock.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal("hello", otherReceiver.Receive(Deadline.After(Patience)).Message!.Content);

        // Reading lets the flush finish: every frame whole, in order.
        Assert.Equal("first", fullReceiver.Receive(Deadline.After(Patience)).Message!.Content);
        Assert.Equal("second", fullReceiver.Receive(Deadline.After(Patience)).Message!.Content);
        Assert.Equal(big, fullReceiver.Receive(Deadline.After(Patience)).Message!.Content);
        stuck.Flush(Deadline.After(Patience)); // no error was kept
    }

    private static void ShrinkPipe(string path, int bytes)
    {
        var fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        Assert.True(fd >= 0, "cannot open the pipe to resize it");
        try
        {
            Assert.Equal(bytes, LibC.Fcntl(fd, LibC.F_SETPIPE_SZ, bytes));
        }
        finally
        {
            _ = LibC.Close(fd);
        }
    }

    [Fact]
    public void ASenderThatFallsSilent_KeepsTheLockForTheIdlePeriod_ThenReleasesIt()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        using var sender = OpenSender(path);
        var clock = Stopwatch.StartNew();
        sender.Send(new GryphMessage { Id = GryphMessage.NewId(), From = "once", Timestamp = DateTime.UtcNow, Content = "last word" }, Deadline.After(Patience));
        Assert.True(sender.HoldsLock);

        Assert.True(SpinWait.SpinUntil(() => !sender.HoldsLock, Patience), "the lock was never released");
        Assert.True(clock.Elapsed >= 0.9 * GryphMessageSender.LockIdleRelease, $"released after {clock.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal("last word", receiver.Receive(Deadline.After(Patience)).Message!.Content);
    }

    [Fact]
    public void ASenderThatFloodsThePipe_LetsAWaitingSenderIn_LongBeforeItsUnconditionalTurn()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        using var flooder = OpenSender(path);
        using var other = OpenSender(path);
        using var stop = new CancellationTokenSource();
        using var flowing = new ManualResetEventSlim();
        var flooding = Task.Run(() =>
        {
            var message = new GryphMessage { Id = GryphMessage.NewId(), From = "flood", Timestamp = DateTime.UtcNow, Content = "flood" };
            while (!stop.IsCancellationRequested)
            {
                flooder.Send(message, Deadline.After(Patience));
            }
        });
        var draining = Task.Run(() =>
        {
            while (true)
            {
                var result = receiver.Receive(Deadline.After(Patience));
                if (result.Message?.From == "flood")
                {
                    flowing.Set();
                    result.Message.Release();
                    continue;
                }

                stop.Cancel();
                return result.Message?.From;
            }
        });

        Assert.True(flowing.Wait(Patience)); // the flooder holds the lock and writes without a pause
        var clock = Stopwatch.StartNew();
        other.Send(new GryphMessage { Id = GryphMessage.NewId(), From = "other", Timestamp = DateTime.UtcNow, Content = "me too" }, Deadline.After(Patience));
        var waited = clock.Elapsed;
        Assert.True(draining.Wait(Patience));
        Assert.Equal("other", draining.Result);
        Assert.True(flooding.Wait(Patience));

        // Seen as a waiter at the flooder's next look (every LockHoldLimit, 20 ms), not only at the turn it takes
        // unconditionally after LockHoldLimitUnseen (200 ms); the margin is for a loaded 2-core machine.
        Assert.True(waited < 5 * GryphMessageSender.LockHoldLimit, $"the waiting sender got in after {waited.TotalMilliseconds:F0} ms");
    }
}

using System.Diagnostics;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Fifo;

[Collection(DescriptorCountingGroup.Name)]
public sealed class BusyPollTests : FifoTestBase
{
    private static readonly long LongBudget = Stopwatch.Frequency * 5;

    private static GryphMessage Message(string content) =>
        new() { Id = GryphMessage.NewId(), From = "t", Timestamp = DateTime.UtcNow, Content = content, Bytes = System.Text.Encoding.UTF8.GetByteCount(content) };

    /// <summary>Gives <paramref name="fifo"/> a budget long enough that a spin ends only with data, the deadline or Ctrl+C.</summary>
    private static (BusyPoll Spinning, GryphFrameReader Frames) SpinForSeconds(FifoReader fifo, string path)
    {
        var spinning = new BusyPoll(LongBudget);
        fifo.BusyPolling = spinning;
        return (spinning, new GryphFrameReader(fifo, FrameFormat.DefaultMaxMessageBytes, path));
    }

    [Fact]
    public void AFrameWrittenWhileTheReaderSpins_IsTakenWithoutSleeping()
    {
        var path = NewFifo();
        using var fifo = FifoReader.Open(path, allowShared: false, CancellationToken.None);
        var (spinning, frames) = SpinForSeconds(fifo, path);
        using var sender = OpenSender(path);

        // The frame is written only once the reader has found the pipe empty and begun to spin.
        var sending = Task.Run(() =>
        {
            Assert.True(SpinWait.SpinUntil(() => spinning.Spins > 0, Patience), "the reader never began to spin");
            sender.Send(Message("hello"), Deadline.After(Patience));
        });
        var result = frames.ReadNext(Deadline.After(Patience));
        sending.GetAwaiter().GetResult();

        Assert.Equal("hello", result.Message?.Content);
        Assert.Equal(1, spinning.Hits);
        Assert.Equal(0, spinning.Misses);
    }

    [Fact]
    public void ASpinNeverRunsPastTheDeadline()
    {
        var path = NewFifo();
        using var fifo = FifoReader.Open(path, allowShared: false, CancellationToken.None);
        var (spinning, frames) = SpinForSeconds(fifo, path);
        using var sender = OpenSender(path);

        var clock = Stopwatch.StartNew();
        var result = frames.ReadNext(Deadline.After(TimeSpan.FromMilliseconds(300)));
        clock.Stop();

        Assert.True(result.IsTimeout);
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 270, 330);
        Assert.Equal(1, spinning.Spins);
        Assert.Equal(0, spinning.Hits);
    }

    [Fact]
    public void CancellationStopsASpinWithin100Milliseconds()
    {
        var path = NewFifo();
        using var stop = new CancellationTokenSource();
        using var fifo = FifoReader.Open(path, allowShared: false, stop.Token);
        var (spinning, frames) = SpinForSeconds(fifo, path);
        using var sender = OpenSender(path);

        var reading = Task.Run(() => frames.ReadNext(Deadline.After(Patience)));
        Assert.True(SpinWait.SpinUntil(() => spinning.Spins > 0, Patience), "the reader never began to spin");
        var clock = Stopwatch.StartNew();
        stop.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => reading.GetAwaiter().GetResult());
        clock.Stop();

        Assert.InRange(clock.Elapsed.TotalMilliseconds, 0, 100);
    }

    [Fact]
    public void SpinsThatFindNothing_AreSkippedForTwiceAsManyWaitsEachTime_AndAHitSpinsAgain()
    {
        var policy = new BusyPoll(LongBudget);
        int SleepsBeforeTheNextSpin()
        {
            var skipped = 0;
            while (policy.Begin(Deadline.Infinite) == 0)
            {
                skipped++;
            }

            return skipped;
        }

        Assert.Equal(0, SleepsBeforeTheNextSpin());
        var skips = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            policy.Miss();
            skips.Add(SleepsBeforeTheNextSpin());
        }

        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 256], skips);
        policy.Hit();
        Assert.Equal(0, SleepsBeforeTheNextSpin());
        policy.Miss();
        Assert.Equal(1, SleepsBeforeTheNextSpin());
    }

    [Fact]
    public void ASpinEndsAtTheBudgetOrTheDeadline_WhicheverComesFirst()
    {
        var policy = new BusyPoll(LongBudget);
        var before = Stopwatch.GetTimestamp();
        var untilBudget = policy.Begin(Deadline.Infinite);
        Assert.InRange(untilBudget - before, LongBudget, LongBudget + Stopwatch.Frequency);

        var soon = Deadline.After(TimeSpan.FromMilliseconds(10));
        Assert.Equal(soon.ExpiresAtTicks, policy.Begin(soon));

        var passed = Deadline.After(TimeSpan.FromTicks(1));
        Assert.True(SpinWait.SpinUntil(() => passed.HasExpired, Patience));
        Assert.Equal(0, policy.Begin(passed));
        Assert.Equal(0, new BusyPoll(0).Begin(Deadline.Infinite));
    }

    [Theory]
    [InlineData(null, 2, BusyPoll.DefaultMicroseconds)]
    [InlineData("", 16, BusyPoll.DefaultMicroseconds)]
    [InlineData("fast", 2, BusyPoll.DefaultMicroseconds)]
    [InlineData("-5", 2, BusyPoll.DefaultMicroseconds)]
    [InlineData("200", 2, 200)]
    [InlineData("0", 2, 0)]
    [InlineData("999999999", 2, BusyPoll.MaxMicroseconds)]
    [InlineData(null, 1, 0)]
    [InlineData("200", 1, 0)]
    public void TheBudget_ComesFromGRYPHGEN_BUSY_POLL_US_AndIsNoneWithOneCpuOnline(string? setting, long cpusOnline, long microseconds)
    {
        Assert.Equal(Stopwatch.Frequency * microseconds / 1_000_000, BusyPoll.BudgetTicksFor(setting, cpusOnline));
    }
}

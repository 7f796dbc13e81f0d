using System.Diagnostics;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Messaging;

public sealed class DueTimerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static long From(long start, TimeSpan delay) => start + (long)(delay.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public void ATimerMovedLater_FiresOnceAtTheLaterTime_NeverAtTheEarlierOne()
    {
        using var fired = new ManualResetEventSlim();
        long firedAt = 0;
        var timer = new DueTimer(() =>
        {
            firedAt = Stopwatch.GetTimestamp();
            fired.Set();
        });
        var start = Stopwatch.GetTimestamp();

        // As a conversation does: every write moves the due time a little later.
        for (var i = 1; i <= 100; i++)
        {
            timer.FireAt(From(start, TimeSpan.FromMilliseconds(2 * i)));
        }

        Assert.True(fired.Wait(Patience), "the timer never fired");
        Assert.True(Stopwatch.GetElapsedTime(start, firedAt) >= TimeSpan.FromMilliseconds(200), $"fired after {Stopwatch.GetElapsedTime(start, firedAt).TotalMilliseconds:F1} ms");
        Assert.Equal(1, timer.Firings);
    }

    [Fact]
    public void ATimerPulledIn_FiresAtTheSoonerTime_AndFireWithinKeepsASoonerOne()
    {
        using var pulledIn = new ManualResetEventSlim();
        using var keptSooner = new ManualResetEventSlim();
        var first = new DueTimer(pulledIn.Set);
        var second = new DueTimer(keptSooner.Set);
        var clock = Stopwatch.StartNew();

        first.FireAt(From(Stopwatch.GetTimestamp(), TimeSpan.FromMinutes(1)));
        first.FireWithin(Stopwatch.Frequency / 100); // 10 ms: sooner, so it replaces the minute
        second.FireWithin(Stopwatch.Frequency / 100);
        second.FireWithin(Stopwatch.Frequency * 60); // later: the 10 ms stand

        Assert.True(pulledIn.Wait(Patience), "the pulled-in timer did not fire");
        Assert.True(keptSooner.Wait(Patience), "FireWithin replaced a sooner due time with a later one");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Callbacks_RunOnTheTimersOwnThread_NotTheThreadPool()
    {
        using var fired = new ManualResetEventSlim();
        Thread? thread = null;
        var timer = new DueTimer(() =>
        {
            thread = Thread.CurrentThread;
            fired.Set();
        });

        timer.FireWithin(0);

        Assert.True(fired.Wait(Patience));
        Assert.False(thread!.IsThreadPoolThread);
        Assert.True(thread.IsBackground); // it never keeps a process alive
        Assert.Equal("Gryphgen deferred writes", thread.Name);
    }

    [Fact]
    public void ACancelledTimer_NeverFires()
    {
        using var later = new ManualResetEventSlim();
        var cancelled = new DueTimer(() => { });
        var witness = new DueTimer(later.Set);
        var start = Stopwatch.GetTimestamp();

        cancelled.FireAt(From(start, TimeSpan.FromMilliseconds(20)));
        cancelled.Cancel();
        cancelled.FireWithin(0); // as a callback already under way when its owner was disposed may do
        witness.FireAt(From(start, TimeSpan.FromMilliseconds(100))); // fires after the cancelled one would have

        Assert.True(later.Wait(Patience));
        Assert.Equal(0, cancelled.Firings);
    }
}

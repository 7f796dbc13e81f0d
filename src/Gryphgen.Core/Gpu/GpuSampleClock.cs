using System.Diagnostics;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Keeps continuous samples on time: sample n is due at n * interval from the start, so the time a query
/// takes is taken off the following sleep and does not accumulate. A query that overruns skips the slots it
/// missed instead of firing a burst to catch up.
/// </summary>
public sealed class GpuSampleClock
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _interval;
    private long _slot;

    public GpuSampleClock(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval;
    }

    /// <summary>How long to sleep before the next sample is due.</summary>
    public TimeSpan UntilNext()
    {
        var now = _clock.Elapsed;
        _slot = Math.Max(_slot + 1, (long)Math.Ceiling(now.Ticks / (double)_interval.Ticks));
        var due = TimeSpan.FromTicks(_interval.Ticks * _slot);
        return due > now ? due - now : TimeSpan.Zero;
    }

    /// <summary>Sleeps until the next sample is due; returns false at once when <paramref name="cancellationToken"/> fires.</summary>
    public bool WaitForNext(CancellationToken cancellationToken) =>
        !cancellationToken.WaitHandle.WaitOne(UntilNext());
}

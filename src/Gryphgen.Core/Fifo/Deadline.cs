using System.Diagnostics;

namespace Gryphgen.Core.Fifo;

/// <summary>A point in time after which a whole operation gives up; <see cref="Infinite"/> never does.</summary>
public readonly struct Deadline
{
    private readonly long _expiresAtTicks;

    private Deadline(long expiresAtTicks) => _expiresAtTicks = expiresAtTicks;

    public static Deadline Infinite => new(long.MaxValue);

    public bool IsInfinite => _expiresAtTicks == long.MaxValue;

    /// <summary>A deadline <paramref name="timeout"/> from now; zero or negative means no deadline.</summary>
    public static Deadline After(TimeSpan timeout) =>
        timeout <= TimeSpan.Zero ? Infinite : new(Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency));

    /// <summary>The earlier of <paramref name="deadline"/> and <paramref name="interval"/> from now.</summary>
    public static Deadline Earliest(Deadline deadline, TimeSpan interval)
    {
        var soon = After(interval);
        return deadline._expiresAtTicks < soon._expiresAtTicks ? deadline : soon;
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp at which it expires; <see cref="long.MaxValue"/> for none.</summary>
    internal long ExpiresAtTicks => _expiresAtTicks;

    public bool HasExpired => !IsInfinite && Stopwatch.GetTimestamp() >= _expiresAtTicks;

    /// <summary>Time left: <see cref="Timeout.InfiniteTimeSpan"/> for no deadline, never negative.</summary>
    public TimeSpan Remaining => IsInfinite
        ? Timeout.InfiniteTimeSpan
        : TimeSpan.FromSeconds(Math.Max(0, _expiresAtTicks - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    /// <summary>Milliseconds left for poll(2): -1 for no deadline, rounded up so a wait never ends early.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsInfinite)
            {
                return -1;
            }

            var left = _expiresAtTicks - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return 0;
            }

            var ms = (left * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency;
            return (int)Math.Min(ms, int.MaxValue);
        }
    }
}

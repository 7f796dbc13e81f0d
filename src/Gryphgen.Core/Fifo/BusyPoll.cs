using System.Diagnostics;
using System.Globalization;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// Busy polling for one reader: before it sleeps in poll(2), a reader whose recent waits ended quickly retries its
/// non-blocking read for a few tens of microseconds (the idea of the kernel's net.core.busy_read for sockets).
/// </summary>
/// <remarks>
/// When the peer runs on another CPU, waking a sleeping reader costs an inter-processor interrupt and a context
/// switch on the reader's CPU, more than the reply itself takes; a reader that is still running when the bytes land
/// takes them at once. On one CPU spinning can only delay the peer, so it is adaptive, as glibc's adaptive mutexes
/// are: a spin that ends without data doubles the number of following waits that sleep at once (up to
/// <see cref="MaxWaitsSkipped"/>), and a spin that finds data spins again next time. A conversation with a model
/// that answers in seconds therefore spins a few times and then almost never. `GRYPHGEN_BUSY_POLL_US` sets the
/// budget in microseconds (default 50, at most 10,000; 0 turns it off); a machine with one CPU online never spins.
/// </remarks>
internal sealed class BusyPoll
{
    public const int DefaultMicroseconds = 50;
    public const int MaxWaitsSkipped = 256;

    /// <summary>Beyond this a spin burns more CPU time than any wake-up it could save.</summary>
    public const int MaxMicroseconds = 10_000;

    private long _spins;
    private int _skipFor;
    private int _skipLeft;

    public BusyPoll(long budgetTicks) => BudgetTicks = budgetTicks;

    /// <summary>The process-wide budget: <c>GRYPHGEN_BUSY_POLL_US</c>, none where only one CPU is online.</summary>
    public static long ConfiguredBudgetTicks { get; } =
        BudgetTicksFor(Environment.GetEnvironmentVariable("GRYPHGEN_BUSY_POLL_US"), LibC.SysConf(LibC.SC_NPROCESSORS_ONLN));

    public long BudgetTicks { get; }

    /// <summary>Waits that began with a spin (read from other threads by tests).</summary>
    public long Spins => Volatile.Read(ref _spins);

    /// <summary>Waits that ended with data found while spinning, so without a sleep.</summary>
    public long Hits { get; private set; }

    /// <summary>Spins that ended without data (the reader then slept as usual).</summary>
    public long Misses { get; private set; }

    /// <summary>
    /// A wait begins: the timestamp until which to keep reading without sleeping, or 0 to sleep at once (busy
    /// polling off, or backing off after misses). Never past <paramref name="deadline"/>.
    /// </summary>
    public long Begin(Deadline deadline)
    {
        if (BudgetTicks <= 0)
        {
            return 0;
        }

        if (_skipLeft > 0)
        {
            _skipLeft--;
            return 0;
        }

        var now = Stopwatch.GetTimestamp();
        if (deadline.ExpiresAtTicks <= now)
        {
            return 0;
        }

        Volatile.Write(ref _spins, _spins + 1);
        return Math.Min(now + BudgetTicks, deadline.ExpiresAtTicks);
    }

    public void Hit()
    {
        Hits++;
        _skipFor = 0;
    }

    public void Miss()
    {
        Misses++;
        _skipFor = Math.Clamp(_skipFor * 2, 1, MaxWaitsSkipped);
        _skipLeft = _skipFor;
    }

    /// <summary>
    /// The budget for a <c>GRYPHGEN_BUSY_POLL_US</c> setting (microseconds; unset or unreadable means the default,
    /// capped at <see cref="MaxMicroseconds"/>) on a machine with <paramref name="cpusOnline"/> CPUs.
    /// </summary>
    internal static long BudgetTicksFor(string? setting, long cpusOnline)
    {
        var microseconds = int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? Math.Min(parsed, MaxMicroseconds)
            : DefaultMicroseconds;

        // The machine's CPUs, not this process's affinity: two processes pinned to different CPUs still gain.
        return cpusOnline > 1 ? Stopwatch.Frequency * microseconds / 1_000_000 : 0;
    }
}

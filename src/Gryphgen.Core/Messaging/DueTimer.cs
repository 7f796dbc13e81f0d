using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// A one-shot timer for a sender's deferred work, whose due time moves later without waking anything.
/// </summary>
/// <remarks>
/// A sender in a conversation keeps moving its idle release 20 ms past its latest write. Through
/// System.Threading.Timer every expiry woke the runtime's timer thread and then a thread-pool worker, which
/// after the callback spun looking for more work, calling sched_yield(2) some 65 times: on a 2-core machine
/// that cost a conversation about a tenth of its round trips (A/B all on one CPU: p50 27 -> 25 us), for a
/// callback that only found the due time moved and set it again.
/// <para>
/// Here one background thread serves every DueTimer in the process. Moving a due time later only writes it: the
/// thread wakes at the old time, finds the new one and sleeps again, without calling anything. Moving it
/// earlier wakes the thread. Callbacks run on that thread, one after another, so they must not block: work that
/// may wait (a write into a full pipe) goes to the thread pool from the callback. The thread holds timers
/// weakly, so an owner that is never disposed can still be collected.
/// </para>
/// </remarks>
internal sealed class DueTimer
{
    private static readonly object Gate = new();
    private static readonly List<WeakReference<DueTimer>> Listed = [];
    private static long _wakeAt = long.MaxValue; // when the thread looks next; long.MinValue while it runs callbacks
    private static Thread? _thread;

    private readonly Action _callback;
    private long _due; // a Stopwatch timestamp; 0 while the timer is not set. Guarded by Gate.
    private bool _listed; // guarded by Gate
    private bool _cancelled; // guarded by Gate
    private long _firings;

    public DueTimer(Action callback) => _callback = callback;

    /// <summary>How many times the callback has been called.</summary>
    public long Firings => Interlocked.Read(ref _firings);

    /// <summary>
    /// Sets the timer to fire at <paramref name="due"/> (a Stopwatch timestamp), sooner or later than it was set
    /// for; after <see cref="Cancel"/>, does nothing.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public void FireAt(long due)
    {
        lock (Gate)
        {
            SetDue(due);
        }
    }

    /// <summary>Sets the timer to fire <paramref name="ticks"/> Stopwatch ticks from now, unless it is set for sooner already.</summary>
    [MethodImpl(HotPath.Options)]
    public void FireWithin(long ticks)
    {
        var due = Stopwatch.GetTimestamp() + ticks;
        lock (Gate)
        {
            if (_due == 0 || _due > due)
            {
                SetDue(due);
            }
        }
    }

    /// <summary>Called under Gate: waking the thread only when it would otherwise look too late.</summary>
    [MethodImpl(HotPath.Options)]
    private void SetDue(long due)
    {
        if (_cancelled)
        {
            return;
        }

        _due = due;
        if (!_listed)
        {
            Listed.Add(new WeakReference<DueTimer>(this));
            _listed = true;
        }

        if (due < _wakeAt)
        {
            _wakeAt = due;
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "Gryphgen deferred writes" };
                _thread.Start();
            }

            Monitor.Pulse(Gate);
        }
    }

    /// <summary>
    /// Stops the timer for good: it does not fire again, even if a callback already under way sets it, and the
    /// thread lets go of it.
    /// </summary>
    public void Cancel()
    {
        lock (Gate)
        {
            _cancelled = true;
            _due = 0;
            if (_listed)
            {
                _ = Listed.RemoveAll(reference => !reference.TryGetTarget(out var timer) || timer == this);
                _listed = false;
            }
        }
    }

    private static void Run()
    {
        var due = new List<DueTimer>();
        while (true)
        {
            lock (Gate)
            {
                while (!TakeDue(due, out var earliest))
                {
                    _wakeAt = earliest;
                    _ = Monitor.Wait(Gate, earliest == long.MaxValue ? Timeout.Infinite : MillisecondsUntil(earliest));
                }

                _wakeAt = long.MinValue; // the thread looks again before it sleeps: setting a timer need not wake it
            }

            foreach (var timer in due)
            {
                _ = Interlocked.Increment(ref timer._firings);
                timer._callback();
            }

            due.Clear();
        }
    }

    /// <summary>Moves every timer that is due into <paramref name="due"/> (unset); true if there was one. Called under Gate.</summary>
    private static bool TakeDue(List<DueTimer> due, out long earliest)
    {
        var now = Stopwatch.GetTimestamp();
        earliest = long.MaxValue;
        for (var i = Listed.Count - 1; i >= 0; i--)
        {
            if (!Listed[i].TryGetTarget(out var timer))
            {
                Listed.RemoveAt(i);
                continue;
            }

            if (timer._due == 0)
            {
                continue;
            }

            if (timer._due <= now)
            {
                timer._due = 0;
                due.Add(timer);
            }
            else
            {
                earliest = Math.Min(earliest, timer._due);
            }
        }

        return due.Count > 0;
    }

    /// <summary>Whole milliseconds until <paramref name="timestamp"/>, rounded up: a wait never ends before the due time.</summary>
    private static int MillisecondsUntil(long timestamp)
    {
        var ticks = timestamp - Stopwatch.GetTimestamp();
        var perMillisecond = Stopwatch.Frequency / 1000;
        return (int)Math.Clamp((ticks + perMillisecond - 1) / perMillisecond, 1, int.MaxValue);
    }
}

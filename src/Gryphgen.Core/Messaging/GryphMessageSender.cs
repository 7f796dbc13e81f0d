using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// Sends messages into one pipe through one open descriptor. Each frame is written under the pipe's writer
/// lock, so concurrent senders never interleave, however large their messages.
/// </summary>
/// <remarks>
/// Each system call costs microseconds, so the sender saves them where the protocol allows:
/// <list type="bullet">
/// <item>The writer lock is kept after a write (released after <see cref="LockIdleRelease"/> without a write).
/// Every <see cref="LockHoldLimit"/> of continuous holding the sender looks whether another sender waits
/// (<see cref="FifoWriter.OthersWaitingForLock"/>); if one does, or after <see cref="LockHoldLimitUnseen"/> in any
/// case, it releases the lock after every write for <see cref="LockTurnTaking"/> so that the others get their turn.
/// A conversation then costs one write(2) per message instead of flock, write and unlock. Holding the lock longer
/// never splits a frame: every frame is still written whole before the lock is released.</item>
/// <item><see cref="Queue"/> gathers frames that arrive back to back and writes them with one write(2) under one
/// lock, at the latest <see cref="QueueFlushDelay"/> after the first; <see cref="Flush"/> and
/// <see cref="Dispose"/> write what is left. A run of whole frames is still whole frames to every reader.</item>
/// </list>
/// The deferred work is timed by a <see cref="DueTimer"/>, whose due time each write moves later for free: a
/// conversation runs no timer callback at all. A queued flush is written on the timer's thread when the pipe has
/// room, else finished from the thread pool; an error it meets is thrown by the next call.
/// </remarks>
public sealed class GryphMessageSender : IMessageSender
{
    /// <summary>
    /// How long the lock is kept after the last write. No longer than a busy sender makes a waiting writer wait
    /// (<see cref="LockHoldLimit"/>); long enough that the pauses of a conversation (the peer thinking, the
    /// scheduler) seldom release it, since the next write must then lock again.
    /// </summary>
    public static readonly TimeSpan LockIdleRelease = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long a queued frame waits before it is written (see <see cref="Queue"/>). At pipeline speed
    /// (150 000 small messages a second) a batch reaches <c>BatchBytes</c> in about 3 ms, so most batches are
    /// written for their size and the timer seldom fires; at 1 ms it fired for nearly every batch, and the extra
    /// writes and wake-ups cost 8 % of the throughput. (Before <see cref="DueTimer"/>, .NET's timers rounded
    /// "1 ms" to the kernel's 4 ms tick anyway.)
    /// </summary>
    public static readonly TimeSpan QueueFlushDelay = TimeSpan.FromMilliseconds(4);

    /// <summary>The longest the lock is held without a break while messages keep coming and another sender waits.</summary>
    public static readonly TimeSpan LockHoldLimit = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The longest the lock is held without a break while no waiting sender is seen: a turn now and then all the
    /// same, for a waiter that could not announce itself.
    /// </summary>
    public static readonly TimeSpan LockHoldLimitUnseen = TimeSpan.FromMilliseconds(200);

    /// <summary>After <see cref="LockHoldLimit"/>, how long the lock is released after every write: longer than
    /// the longest pause between another sender's attempts (<see cref="FifoWriter.Lock"/>), so it gets a turn.</summary>
    public static readonly TimeSpan LockTurnTaking = TimeSpan.FromMilliseconds(10);

    private const int BatchBytes = 64 * 1024;
    private const int KeptBufferBytes = 1024 * 1024;
    private static readonly long IdleTicks = (long)(LockIdleRelease.TotalSeconds * Stopwatch.Frequency);
    private static readonly long FlushTicks = (long)(QueueFlushDelay.TotalSeconds * Stopwatch.Frequency);
    private static readonly long HoldTicks = (long)(LockHoldLimit.TotalSeconds * Stopwatch.Frequency);
    private static readonly long UnseenHoldTicks = (long)(LockHoldLimitUnseen.TotalSeconds * Stopwatch.Frequency);
    private static readonly long TurnTicks = (long)(LockTurnTaking.TotalSeconds * Stopwatch.Frequency);

    private readonly FifoWriter _writer;
    private readonly GryphLog _log;
    private readonly CancellationToken _token;
    private readonly FrameEncoder _encoder = new();
    private readonly object _gate = new();
    private readonly DueTimer _timer;

    // Guarded by _gate.
    private byte[] _buffer = new byte[4096];
    private int _pending;
    private Deadline _pendingDeadline;
    private bool _locked;
    private long _lockedSince;
    private long _nextWaiterCheck;
    private long _lastWrite;
    private long _eagerUntil;
    private Exception? _deferredError;
    private bool _disposed;
    private long _flushesLeftToThreadPool;

    private GryphMessageSender(FifoWriter writer, GryphLog log, CancellationToken token)
    {
        _writer = writer;
        _log = log;
        _token = token;
        _timer = new DueTimer(OnTimer);
    }

    public string Path => _writer.Path;

    /// <summary>How many times this sender took the pipe's writer lock (see <see cref="FifoWriter.LocksTaken"/>).</summary>
    internal long LocksTaken => _writer.LocksTaken;

    /// <summary>How many times the deferred-work timer has fired.</summary>
    internal long TimerWakeUps => _timer.Firings;

    /// <summary>How many queued flushes found the lock taken or the pipe full, and were finished from the thread pool.</summary>
    internal long FlushesLeftToThreadPool => Interlocked.Read(ref _flushesLeftToThreadPool);

    /// <summary>Whether this sender holds the pipe's writer lock now.</summary>
    internal bool HoldsLock
    {
        get
        {
            lock (_gate)
            {
                return _locked;
            }
        }
    }

    /// <summary>Opens <paramref name="path"/>, waiting for a reader until <paramref name="deadline"/>.</summary>
    public static GryphMessageSender Open(string path, bool allowShared, Deadline deadline, GryphLog log, CancellationToken token)
    {
        log.Write(GryphLogLevel.Info, $"Opening pipe for writing: {path}");
        var writer = FifoWriter.Open(path, allowShared, deadline, token);
        log.Write(GryphLogLevel.Info, $"Opened pipe for writing: {path}");
        return new GryphMessageSender(writer, log, token);
    }

    /// <summary>Sends one framed message, written to the pipe when this returns; returns the frame's size in bytes.</summary>
    [MethodImpl(HotPath.Options)]
    public int Send(GryphMessage message, Deadline deadline)
    {
        var length = Append(message, deadline, queue: false);
        LogSent(message);
        return length;
    }

    /// <summary>
    /// Queues one framed message: it is written together with the messages queued right after it, within
    /// <see cref="QueueFlushDelay"/>, or by <see cref="Flush"/> or <see cref="Dispose"/>. For streams of messages
    /// where the caller needs no confirmation per message; a write error surfaces from a later call.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public int Queue(GryphMessage message, Deadline deadline)
    {
        var length = Append(message, deadline, queue: true);
        LogSent(message);
        return length;
    }

    /// <summary>Sends plain text lines with no envelope, for peers such as echo, cat and the original Perl scripts.</summary>
    public void SendRaw(string content, Deadline deadline) => LogSentRaw(Append(content, deadline, queue: false));

    /// <summary>Queues one plain text line (see <see cref="Queue"/>).</summary>
    public void QueueRaw(string content, Deadline deadline) => LogSentRaw(Append(content, deadline, queue: true));

    /// <summary>Writes every queued message now, and surfaces an error met by a deferred write.</summary>
    public void Flush(Deadline deadline)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_pending > 0)
            {
                WritePending(deadline);
            }
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_deferredError is { } error)
        {
            _deferredError = null;
            _pending = 0; // the frames that were queued with it are lost; the error says so
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>Appends one frame after the pending bytes, then writes or queues everything pending; returns the frame's length.</summary>
    [MethodImpl(HotPath.Options)]
    private int Append(GryphMessage message, Deadline deadline, bool queue)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            var length = _encoder.Append(message, ref _buffer, _pending, Grow);
            Commit(length, deadline, queue);
            return length;
        }
    }

    /// <summary>Appends one line (content and a newline) after the pending bytes, then writes or queues; returns its length.</summary>
    [MethodImpl(HotPath.Options)]
    private int Append(string content, Deadline deadline, bool queue)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            var length = Encoding.UTF8.GetByteCount(content) + 1;
            if (_buffer.Length - _pending < length)
            {
                _buffer = Grow(_buffer, _pending, _pending + length);
            }

            _ = Encoding.UTF8.GetBytes(content, _buffer.AsSpan(_pending));
            _buffer[_pending + length - 1] = (byte)'\n';
            Commit(length, deadline, queue);
            return length;
        }
    }

    /// <summary>Counts the <paramref name="length"/> bytes just appended as pending and writes them now, or queues them (<see cref="Queued"/>).</summary>
    [MethodImpl(HotPath.Options)]
    private void Commit(int length, Deadline deadline, bool queue)
    {
        if (queue)
        {
            Queued(length, deadline);
        }
        else
        {
            _pending += length;
            WritePending(deadline);
        }
    }

    [MethodImpl(HotPath.Options)]
    private void Queued(int length, Deadline deadline)
    {
        var startsBatch = _pending == 0;
        _pending += length;
        _pendingDeadline = deadline;

        // A message after a pause goes at once; one that follows another closely waits for the ones behind it.
        if (_pending >= BatchBytes || (startsBatch && Stopwatch.GetTimestamp() - _lastWrite > FlushTicks))
        {
            WritePending(deadline);
            return;
        }

        _timer.FireWithin(FlushTicks);
    }

    /// <summary>Writes every pending byte under the writer lock, then keeps or releases the lock (see the remarks).</summary>
    [MethodImpl(HotPath.Options)]
    private void WritePending(Deadline deadline)
    {
        try
        {
            if (!_locked)
            {
                _writer.Lock(deadline, _token);
                Locked();
            }

            _writer.Write(_buffer.AsSpan(0, _pending), deadline);
        }
        catch
        {
            DropPending();
            throw;
        }

        AllWritten();
    }

    /// <summary>
    /// <see cref="WritePending"/> without waiting, for the timer's thread: writes what the pipe takes now if the
    /// lock is free. True when nothing is left (or an error was kept for the next call); false when bytes are left,
    /// and then a frame begun keeps the lock until the rest is written.
    /// </summary>
    private bool TryWritePendingNow()
    {
        int written;
        try
        {
            if (!_locked)
            {
                if (!_writer.TryLock())
                {
                    return false;
                }

                Locked();
            }

            written = _writer.WriteAvailable(_buffer.AsSpan(0, _pending));
        }
        catch (GryphgenException ex)
        {
            DropPending();
            _deferredError = ex;
            return true;
        }

        if (written < _pending)
        {
            _buffer.AsSpan(written, _pending - written).CopyTo(_buffer);
            _pending -= written;
            return false;
        }

        AllWritten();
        return true;
    }

    /// <summary>Every pending byte is in the pipe: the lock is kept or released (see the remarks).</summary>
    [MethodImpl(HotPath.Options)]
    private void AllWritten()
    {
        _pending = 0;
        ShrinkBuffer();
        _lastWrite = Stopwatch.GetTimestamp();
        KeepOrReleaseLock(_lastWrite);
    }

    /// <summary>A write failed: what was pending is lost (the error says so) and a frame cut short releases the lock.</summary>
    private void DropPending()
    {
        _pending = 0;
        ReleaseLock();
        ShrinkBuffer();
    }

    private void Locked()
    {
        _locked = true;
        _lockedSince = Stopwatch.GetTimestamp();
        _nextWaiterCheck = _lockedSince + HoldTicks;
    }

    /// <summary>
    /// After a write, and whenever the timer fires: the lock goes after <see cref="LockIdleRelease"/> without a write,
    /// after every write while taking turns, and when a turn is due; otherwise it is kept and the timer set for the
    /// idle release.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    private void KeepOrReleaseLock(long now)
    {
        var idle = now - _lastWrite;
        if (idle >= IdleTicks || now < _eagerUntil)
        {
            ReleaseLock();
        }
        else if (TurnDue(now))
        {
            ReleaseLock();
            _eagerUntil = now + TurnTicks;
        }
        else
        {
            _timer.FireAt(_lastWrite + IdleTicks);
        }
    }

    /// <summary>Whether the lock, held continuously, must go to the others now (see the remarks); looks at most once per <see cref="LockHoldLimit"/>.</summary>
    [MethodImpl(HotPath.Options)]
    private bool TurnDue(long now)
    {
        if (now < _nextWaiterCheck)
        {
            return false;
        }

        _nextWaiterCheck = now + HoldTicks;
        return now - _lockedSince > UnseenHoldTicks || _writer.OthersWaitingForLock();
    }

    private void ReleaseLock()
    {
        if (_locked)
        {
            _writer.Unlock();
            _locked = false;
        }
    }

    /// <summary>
    /// On the <see cref="DueTimer"/>'s thread, which serves every sender in the process and so must never wait: a
    /// sender busy in a call is looked at again shortly, and a queued flush that would have to wait for the lock or
    /// for room in the pipe is finished from the thread pool.
    /// </summary>
    private void OnTimer()
    {
        if (!Monitor.TryEnter(_gate))
        {
            _timer.FireWithin(FlushTicks);
            return;
        }

        try
        {
            if (_disposed)
            {
                return;
            }

            if (_pending > 0 && _deferredError is null)
            {
                if (!TryWritePendingNow())
                {
                    _ = Interlocked.Increment(ref _flushesLeftToThreadPool);
                    _ = ThreadPool.UnsafeQueueUserWorkItem(static sender => sender.FlushQueued(), this, preferLocal: false);
                }
            }
            else if (_locked)
            {
                KeepOrReleaseLock(Stopwatch.GetTimestamp());
            }
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>Writes the queued frames the timer could not write at once; an error is kept for the next call to throw.</summary>
    private void FlushQueued()
    {
        lock (_gate)
        {
            if (_disposed || _pending == 0 || _deferredError is not null)
            {
                return;
            }

            try
            {
                WritePending(_pendingDeadline);
            }
            catch (Exception ex) when (ex is GryphgenException or OperationCanceledException or ObjectDisposedException)
            {
                _deferredError = ex;
            }
        }
    }

    private void ShrinkBuffer()
    {
        // A very large message's buffer goes back to the pool rather than staying with the sender.
        if (_pending == 0 && _buffer.Length > KeptBufferBytes)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = new byte[4096];
        }
    }

    private static byte[] Grow(byte[] buffer, int used, int needed)
    {
        var size = Math.Max(needed, Math.Min(buffer.Length * 2, Array.MaxLength));
        var grown = size > KeptBufferBytes ? ArrayPool<byte>.Shared.Rent(size) : new byte[size];
        buffer.AsSpan(0, used).CopyTo(grown);
        if (buffer.Length > KeptBufferBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return grown;
    }

    private void LogSent(GryphMessage message)
    {
        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Sent message {message.Id} ({message.Bytes} bytes) to {message.To ?? Path}{(message.ReplyTo is null ? string.Empty : " in reply to " + message.ReplyTo)}");
        }
    }

    private void LogSentRaw(int length)
    {
        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Sent raw line ({length} bytes) to {Path}");
        }
    }

    /// <summary>Writes what is still queued (best effort: a stopped pipeline or a gone reader drops it), then closes the pipe.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_pending > 0 && _deferredError is null)
            {
                try
                {
                    WritePending(_pendingDeadline);
                }
                catch (Exception ex) when (ex is GryphgenException or OperationCanceledException)
                {
                    _log.Write(GryphLogLevel.Error, $"Queued messages to {Path} were not sent: {ex.Message}");
                }
            }

            _disposed = true;
            _timer.Cancel();
            ReleaseLock();
            _writer.Dispose();
            _encoder.Dispose();
            if (_buffer.Length > KeptBufferBytes)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
        }

        _log.Write(GryphLogLevel.Debug, $"Closed pipe: {Path}");
    }
}

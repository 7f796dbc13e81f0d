using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// The write end of a FIFO, opened without blocking: open(2) with O_NONBLOCK fails with ENXIO while no reader
/// exists, and an inotify IN_OPEN watch wakes us when one arrives, so waiting for a reader costs no polling
/// loop and no thread stuck in open(2). Writes never block either: EAGAIN waits for POLLOUT.
/// </summary>
public sealed class FifoWriter : IDisposable
{
    private static readonly TimeSpan BlockingReaderRetry = TimeSpan.FromMilliseconds(20);
    private readonly FifoDescriptor _descriptor;
    private readonly CancellableWait _wait;
    private readonly ulong _inode;

    private FifoWriter(string path, FifoDescriptor descriptor, CancellableWait wait, ulong inode)
    {
        Path = path;
        _descriptor = descriptor;
        _wait = wait;
        _inode = inode;
    }

    public string Path { get; }

    /// <summary>How many times the writer lock was taken: tests check that a lone sender keeps it.</summary>
    internal long LocksTaken { get; private set; }

    /// <summary>Opens <paramref name="path"/> for writing, waiting for a reader until <paramref name="deadline"/>.</summary>
    public static FifoWriter Open(string path, bool allowShared, Deadline deadline, CancellationToken token)
    {
        var status = UnixFileStatus.OfPath(path)
            ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
                $"No pipe at '{path}'. Create it with New-GryphPipe.", path);
        FifoAccess.VerifyFifo(status, path, allowShared);

        var waitingSince = Stopwatch.GetTimestamp();
        var wait = new CancellableWait(token);
        try
        {
            using var readerArrival = new InotifyOpenWatch(path);
            while (true)
            {
                var result = FifoDescriptor.TryOpen(path, LibC.O_WRONLY, out var descriptor);
                if (descriptor is not null)
                {
                    UnixFileStatus opened;
                    try
                    {
                        opened = UnixFileStatus.OfDescriptor(descriptor.Value, path);
                        FifoAccess.VerifyFifo(opened, path, allowShared);
                    }
                    catch
                    {
                        descriptor.Dispose();
                        throw;
                    }

                    return new FifoWriter(path, descriptor, wait, opened.Inode);
                }

                switch (-result)
                {
                    case LibC.ENXIO:
                        if (deadline.HasExpired)
                        {
                            throw NoReader(path, Stopwatch.GetElapsedTime(waitingSince));
                        }

                        // inotify reports a reader's open only once it completes, and a reader that opened
                        // without O_NONBLOCK (cat, head, Perl) completes only when a writer arrives: for those,
                        // retry on a short interval as well.
                        if (wait.Wait(readerArrival.Descriptor, LibC.POLLIN, Deadline.Earliest(deadline, BlockingReaderRetry)) != 0)
                        {
                            readerArrival.Drain();
                        }

                        break;
                    case LibC.EINTR:
                        break;
                    default:
                        throw FifoErrors.OpenFailed(path, -result);
                }
            }
        }
        catch
        {
            wait.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A sender waits for a reader because a FIFO cannot hold a message without one; the usual cause is that nothing
    /// receives on that endpoint yet, so the message says what has to be running.
    /// </summary>
    private static GryphgenException NoReader(string path, TimeSpan waited) =>
        new("GryphPipeNoReader", GryphgenErrorKind.Timeout,
            $"Nothing read '{path}' in the {waited.TotalSeconds:0.#} s this send waited. A message is delivered only to a running " +
            "receiver: start Receive-GryphMessage or an agent (Start-GryphAgent) on that endpoint first, for example in a " +
            "background job or another pwsh, or wait longer with -TimeoutSeconds.", path);

    /// <summary>Writes all of <paramref name="data"/>, waiting for room in the pipe until the deadline.</summary>
    [MethodImpl(HotPath.Options)]
    public void Write(ReadOnlySpan<byte> data, Deadline deadline)
    {
        var written = WriteAvailable(data);
        while (written < data.Length)
        {
            var events = _wait.Wait(_descriptor.Value, LibC.POLLOUT, deadline);
            if (events == 0)
            {
                throw new GryphgenException("GryphPipeWriteTimeout", GryphgenErrorKind.Timeout,
                    $"The reader of '{Path}' did not take the message before the timeout ({written} of {data.Length} bytes written).", Path);
            }

            if ((events & LibC.POLLERR) != 0)
            {
                throw ReaderGone();
            }

            written += WriteAvailable(data[written..]);
        }
    }

    /// <summary>Writes as much of <paramref name="data"/> as the pipe takes now, without waiting; returns how much.</summary>
    [MethodImpl(HotPath.Options)]
    public unsafe int WriteAvailable(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            var written = 0;
            while (written < data.Length)
            {
                var n = LibC.Write(_descriptor.Value, start + written, (nuint)(data.Length - written));
                if (n > 0)
                {
                    written += (int)n;
                    continue;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EAGAIN)
                {
                    break;
                }

                if (errno != LibC.EINTR)
                {
                    throw WriteFailed(errno);
                }
            }

            return written;
        }
    }

    /// <summary>
    /// Takes the pipe's writer lock (flock) so a frame larger than PIPE_BUF is never interleaved with another
    /// sender's. flock has no timeout and cannot be interrupted without a signal, so a busy lock is retried
    /// with LOCK_NB and a short backoff instead of blocking a thread in the system call. While it waits, this
    /// sender shows that it does (see <see cref="OthersWaitingForLock"/>), so the holder lets it have a turn.
    /// </summary>
    public void Lock(Deadline deadline, CancellationToken token)
    {
        if (TryLock())
        {
            return;
        }

        var announcement = Announce();
        try
        {
            var backoff = 0;
            var spinner = default(SpinWait);
            do
            {
                token.ThrowIfCancellationRequested();
                if (deadline.HasExpired)
                {
                    throw new GryphgenException("GryphPipeBusy", GryphgenErrorKind.Timeout,
                        $"Another sender held '{Path}' until the timeout.", Path);
                }

                if (!spinner.NextSpinWillYield)
                {
                    spinner.SpinOnce();
                }
                else
                {
                    backoff = Math.Min(Math.Max(backoff * 2, 1), 4);
                    token.WaitHandle.WaitOne(backoff);
                }
            }
            while (!TryLock());
        }
        finally
        {
            Withdraw(announcement);
        }
    }

    /// <summary>Takes the writer lock if it is free now; never waits (see <see cref="Lock"/>).</summary>
    public bool TryLock()
    {
        if (LibC.Flock(_descriptor.Value, LibC.LOCK_EX | LibC.LOCK_NB) == 0)
        {
            LocksTaken++;
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno is LibC.EAGAIN or LibC.EINTR
            ? false
            : throw new GryphgenException("GryphPipeLockFailed", GryphgenErrorKind.InvalidData,
                $"Locking '{Path}' failed: {LibC.Describe(errno)}.", Path);
    }

    public void Unlock() => _ = LibC.Flock(_descriptor.Value, LibC.LOCK_UN);

    /// <summary>
    /// Whether another sender waits for the writer lock: a Gryphgen sender announces itself with an
    /// open-file-description lock on one byte of the FIFO while it waits (see <see cref="Lock"/>), and a peer
    /// blocked in flock(2) (flock(1) in bash, fcntl.flock in Python) shows as a waiter in /proc/locks.
    /// </summary>
    public bool OthersWaitingForLock() =>
        OfdLocks.HeldByOthers(_descriptor.Value, FifoLockLayout.WaiterFirst, FifoLockLayout.WaiterEnd - FifoLockLayout.WaiterFirst)
        || FlockWaiters.AnyBlockedOn(_inode);

    /// <summary>Takes a write lock on one random byte far past anything a FIFO holds; -1 when none could be taken.</summary>
    private long Announce()
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var offset = Random.Shared.NextInt64(FifoLockLayout.WaiterFirst, FifoLockLayout.WaiterEnd); // distinct waiters almost never pick the same byte
            if (OfdLocks.TryTake(_descriptor.Value, LibC.F_WRLCK, offset, 1))
            {
                return offset;
            }
        }

        return -1; // the holder still takes turns now and then (GryphMessageSender.LockHoldLimitUnseen)
    }

    private void Withdraw(long announcement)
    {
        if (announcement > 0)
        {
            OfdLocks.Release(_descriptor.Value, announcement, 1);
        }
    }

    private GryphgenException WriteFailed(int errno) =>
        errno == LibC.EPIPE
            ? ReaderGone()
            : new GryphgenException("GryphPipeWriteFailed", GryphgenErrorKind.InvalidData,
                $"Writing to '{Path}' failed: {LibC.Describe(errno)}.", Path);

    private GryphgenException ReaderGone() =>
        new("GryphPipeReaderGone", GryphgenErrorKind.ResourceUnavailable,
            $"The reader of '{Path}' closed the pipe before the message was complete.", Path);

    public void Dispose()
    {
        _descriptor.Dispose();
        _wait.Dispose();
    }
}

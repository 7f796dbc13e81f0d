using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// The read end of a FIFO, opened without blocking. It reads exactly what it is asked for, never more, so a
/// receiver that stops leaves every later byte in the pipe for the next one.
/// </summary>
/// <remarks>
/// When the last writer closes, read(2) returns 0 and poll(2) keeps reporting POLLHUP. To wait for the next
/// writer without spinning, the reader then holds a write end of its own FIFO (reopened through
/// /proc/self/fd, so it is the same inode whatever the path points to now) until data arrives, and drops it
/// again so that the next writer's departure is seen: a writer that dies mid-message is detected.
/// <para>
/// When frames queue up, the reader looks at the front of the pipe with tee(2), which copies pipe contents into a
/// private pipe without taking them. The prefixes seen there say how long each frame is, so each frame is then
/// taken with one read of exactly its length, instead of one for its prefix and one for the rest: still never a
/// byte past the frame. Every read drops as many bytes from the front of what was seen.
/// </para>
/// <para>
/// Before sleeping for data, a reader may spin on its non-blocking read for a few tens of microseconds
/// (<see cref="BusyPoll"/>), which saves a cross-CPU wake-up when the peer answers at once.
/// </para>
/// </remarks>
public sealed class FifoReader : IDisposable, Messaging.IByteSource
{
    private const int PreferredPipeBytes = 1024 * 1024;
    private const int PeekBytes = 16 * 1024;
    private readonly FifoDescriptor _descriptor;
    private readonly CancellableWait _wait;
    private FifoDescriptor? _keepAlive;
    private bool _frameStartsWait;
    private int _frameStarts;

    // The front of the pipe as last seen through tee(2), minus what was read since (see the remarks).
    private byte[]? _seen;
    private int _seenStart;
    private int _seenEnd;
    private FifoDescriptor? _teeRead;
    private FifoDescriptor? _teeWrite;
    private bool _teeUnavailable;

    private FifoReader(string path, FifoDescriptor descriptor, CancellableWait wait)
    {
        Path = path;
        _descriptor = descriptor;
        _wait = wait;
    }

    public string Path { get; }

    /// <summary>Whether to spin before sleeping, and how that went (tests give a reader its own budget).</summary>
    internal BusyPoll BusyPolling { get; set; } = new(BusyPoll.ConfiguredBudgetTicks);

    /// <summary>How many read(2) calls have taken bytes from the FIFO: tests check that queued frames take one each.</summary>
    internal long ReadsTaken { get; private set; }

    public static FifoReader Open(string path, bool allowShared, CancellationToken token)
    {
        var status = UnixFileStatus.OfPath(path)
            ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
                $"No pipe at '{path}'. Create it with New-GryphPipe.", path);
        FifoAccess.VerifyFifo(status, path, allowShared);
        var result = FifoDescriptor.TryOpen(path, LibC.O_RDONLY, out var descriptor);
        if (descriptor is null)
        {
            throw FifoErrors.OpenFailed(path, -result);
        }

        try
        {
            FifoAccess.VerifyFifo(UnixFileStatus.OfDescriptor(descriptor.Value, path), path, allowShared);
            ClaimReading(descriptor.Value, path);

            // A larger kernel buffer lets senders of big messages finish a frame in one go (best effort:
            // unprivileged users are capped by /proc/sys/fs/pipe-max-size).
            _ = LibC.Fcntl(descriptor.Value, LibC.F_SETPIPE_SZ, PreferredPipeBytes);
            return new FifoReader(path, descriptor, new CancellableWait(token));
        }
        catch
        {
            descriptor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Claims the FIFO for this receiver: an open-file-description read lock on <see cref="FifoLockLayout.ReaderClaim"/>,
    /// released when the descriptor closes (also when the process dies). Two readers of one FIFO split its bytes
    /// between them, so each would get pieces of the other's frames and report them as malformed; a Gryphgen
    /// receiver that finds the byte claimed is refused instead, naming who reads. A read-only descriptor can only
    /// take a shared (read) lock, so the claim is a look, then a lock: two receivers started in the same
    /// microsecond could both get in. Where locks are not supported it goes on unclaimed.
    /// </summary>
    private static void ClaimReading(int fd, string path)
    {
        if (!OfdLocks.HeldByOthers(fd, FifoLockLayout.ReaderClaim, 1))
        {
            _ = OfdLocks.TryTake(fd, LibC.F_RDLCK, FifoLockLayout.ReaderClaim, 1);
            return;
        }

        // This process shows as a reader too (the descriptor just opened), so only other processes are named.
        var others = PipeHolders.Find(path)
            .Where(holder => holder.Reading && holder.ProcessId != Environment.ProcessId)
            .Select(holder => $"{holder.ProcessName} ({holder.ProcessId})")
            .ToList();
        var who = others.Count > 0
            ? " by " + string.Join(", ", others)
            : " by another receiver in this process (or a process this user cannot see)";
        throw new GryphgenException("GryphPipeReaderBusy", GryphgenErrorKind.ResourceUnavailable,
            $"'{path}' is already being read{who}. Two receivers on one pipe would each get pieces of the other's messages; stop the other receiver, or give this one its own pipe.",
            path);
    }

    /// <summary>
    /// Reads up to <paramref name="buffer"/>.Length bytes. Returns the count read; 0 means every writer has
    /// closed (a message in progress is then truncated); -1 means the deadline passed with nothing to read.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public int Read(Span<byte> buffer, Deadline deadline) => ReadCore(buffer, deadline, frameStart: false);

    /// <summary>
    /// <see cref="Read"/> at the start of a frame. In a conversation the next frame has usually not been written
    /// yet, so a read would only find the pipe empty: once a frame start has found it empty, later frame starts
    /// sleep in poll(2) first, saving that read (every eighth still reads first, to notice when frames queue up),
    /// unless <see cref="BusyPoll"/> says to spin, which reads until the bytes come.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public int ReadFrameStart(Span<byte> buffer, Deadline deadline) => ReadCore(buffer, deadline, frameStart: true);

    /// <summary>
    /// The bytes at the front of the pipe, without taking them, while frames are queuing up (see the remarks);
    /// empty in a conversation, where the next frame has usually not been written yet and a look would cost a
    /// system call that saves none.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public ReadOnlySpan<byte> PeekFrameStart()
    {
        if (_seenEnd - _seenStart >= Messaging.FrameFormat.PrefixLength || _frameStartsWait || _teeUnavailable)
        {
            return _seen.AsSpan(_seenStart, _seenEnd - _seenStart);
        }

        return Look();
    }

    /// <summary>
    /// The bytes at the front of the pipe, without taking them, whatever the pipe was used for so far: for a
    /// reader skipping to the next frame start, which must not take a byte of that frame (see GryphFrameReader).
    /// Empty when the pipe is empty or tee(2) is not allowed here.
    /// </summary>
    public ReadOnlySpan<byte> PeekAhead() =>
        _seenEnd > _seenStart || _teeUnavailable ? _seen.AsSpan(_seenStart, _seenEnd - _seenStart) : Look();

    [MethodImpl(HotPath.Options)]
    private unsafe ReadOnlySpan<byte> Look()
    {
        if (_teeRead is null && !OpenTeePipe())
        {
            return ReadOnlySpan<byte>.Empty;
        }

        var copied = LibC.Tee(_descriptor.Value, _teeWrite!.Value, PeekBytes, LibC.SPLICE_F_NONBLOCK);
        if (copied <= 0)
        {
            var errno = copied < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (copied == 0 || errno == LibC.EAGAIN)
            {
                _frameStartsWait = copied < 0; // an empty pipe at a frame start: a conversation, so wait first from now on
            }
            else if (errno != LibC.EINTR)
            {
                _teeUnavailable = true; // not allowed here (seccomp, an old kernel): read prefixes as before
            }

            _seenStart = _seenEnd = 0;
            return ReadOnlySpan<byte>.Empty;
        }

        _seen ??= new byte[PeekBytes];
        var filled = 0;
        fixed (byte* start = _seen)
        {
            while (filled < copied)
            {
                var n = LibC.Read(_teeRead!.Value, start + filled, (nuint)(copied - filled));
                if (n <= 0 && Marshal.GetLastPInvokeError() != LibC.EINTR)
                {
                    // Bytes left behind in the private pipe would make every later look wrong: stop looking.
                    _teeUnavailable = true;
                    _seenStart = _seenEnd = 0;
                    return ReadOnlySpan<byte>.Empty;
                }

                filled += (int)Math.Max(n, 0);
            }
        }

        _seenStart = 0;
        _seenEnd = filled;
        return _seen.AsSpan(0, filled);
    }

    private unsafe bool OpenTeePipe()
    {
        var fds = stackalloc int[2];
        if (LibC.Pipe2(fds, LibC.O_NONBLOCK | LibC.O_CLOEXEC) != 0)
        {
            _teeUnavailable = true;
            return false;
        }

        _teeRead = new FifoDescriptor(fds[0]);
        _teeWrite = new FifoDescriptor(fds[1]);
        return true;
    }

    /// <summary>A read took <paramref name="count"/> bytes from the front of the pipe: they are no longer ahead.</summary>
    [MethodImpl(HotPath.Options)]
    private void Took(int count)
    {
        _seenStart += count;
        if (_seenStart >= _seenEnd)
        {
            _seenStart = _seenEnd = 0;
        }
    }

    [MethodImpl(HotPath.Options)]
    private unsafe int ReadCore(Span<byte> buffer, Deadline deadline, bool frameStart)
    {
        // While spinning (see BusyPoll), the timestamp to stop at; 0 when not.
        long spinUntil = 0;
        var spinDecided = false;
        var slept = false;
        if (frameStart && _frameStartsWait && (++_frameStarts & 7) != 0)
        {
            spinDecided = true;
            spinUntil = BusyPolling.Begin(deadline);
            if (spinUntil == 0)
            {
                if (!WaitReadable(deadline))
                {
                    return -1;
                }

                slept = true;
            }
        }

        var firstRead = true;
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var n = LibC.Read(_descriptor.Value, start, (nuint)buffer.Length);
                if (n > 0)
                {
                    Took((int)n);
                    ReadsTaken++;
                    if (spinUntil != 0)
                    {
                        BusyPolling.Hit();
                    }

                    if (frameStart && firstRead && !slept)
                    {
                        _frameStartsWait = false; // frames are queued up: read straight away
                    }

                    return (int)n;
                }

                if (n == 0)
                {
                    if (_keepAlive is null)
                    {
                        HoldWriteEnd();
                        return 0;
                    }

                    continue;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR)
                {
                    continue;
                }

                if (errno != LibC.EAGAIN)
                {
                    throw new GryphgenException("GryphPipeReadFailed", GryphgenErrorKind.InvalidData,
                        $"Reading '{Path}' failed: {LibC.Describe(errno)}.", Path);
                }

                if (frameStart && firstRead)
                {
                    _frameStartsWait = true;
                }

                firstRead = false;
                if (!spinDecided)
                {
                    spinDecided = true;
                    spinUntil = BusyPolling.Begin(deadline);
                }

                if (spinUntil != 0)
                {
                    if (Stopwatch.GetTimestamp() < spinUntil)
                    {
                        _wait.ThrowIfCancellationRequested();
                        continue;
                    }

                    BusyPolling.Miss();
                    spinUntil = 0;
                }

                if (!WaitReadable(deadline))
                {
                    return -1;
                }
            }
        }
    }

    /// <summary>Waits for data (or every writer leaving); false when the deadline passed first.</summary>
    [MethodImpl(HotPath.Options)]
    private bool WaitReadable(Deadline deadline)
    {
        if (_wait.Wait(_descriptor.Value, LibC.POLLIN, deadline) == 0)
        {
            return false;
        }

        // A writer is here: stop holding our own write end so its departure is seen.
        _keepAlive?.Dispose();
        _keepAlive = null;
        return true;
    }

    private void HoldWriteEnd()
    {
        var self = "/proc/self/fd/" + _descriptor.Value.ToString(CultureInfo.InvariantCulture);
        var fd = LibC.Open(self, LibC.O_WRONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw new GryphgenException("GryphPipeOpenFailed", GryphgenErrorKind.InvalidData,
                $"Cannot hold '{Path}' open while waiting for a writer: {LibC.Describe(Marshal.GetLastPInvokeError())}.", Path);
        }

        _keepAlive = new FifoDescriptor(fd);
    }

    public void Dispose()
    {
        _teeRead?.Dispose();
        _teeWrite?.Dispose();
        _keepAlive?.Dispose();
        _descriptor.Dispose();
        _wait.Dispose();
    }
}

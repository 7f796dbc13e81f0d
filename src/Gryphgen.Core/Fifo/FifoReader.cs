using System.Globalization;
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
/// </remarks>
public sealed class FifoReader : IDisposable, Messaging.IByteSource
{
    private const int PreferredPipeBytes = 1024 * 1024;
    private readonly FifoDescriptor _descriptor;
    private readonly CancellableWait _wait;
    private FifoDescriptor? _keepAlive;
    private bool _frameStartsWait;
    private int _frameStarts;

    private FifoReader(string path, FifoDescriptor descriptor, CancellableWait wait)
    {
        Path = path;
        _descriptor = descriptor;
        _wait = wait;
    }

    public string Path { get; }

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
    /// Reads up to <paramref name="buffer"/>.Length bytes. Returns the count read; 0 means every writer has
    /// closed (a message in progress is then truncated); -1 means the deadline passed with nothing to read.
    /// </summary>
    public int Read(Span<byte> buffer, Deadline deadline) => ReadCore(buffer, deadline, frameStart: false);

    /// <summary>
    /// <see cref="Read"/> at the start of a frame. In a conversation the next frame has usually not been written
    /// yet, so a read would only find the pipe empty: once a frame start has found it empty, later frame starts
    /// wait for data first, saving that read (every eighth still reads first, to notice when frames queue up).
    /// </summary>
    public int ReadFrameStart(Span<byte> buffer, Deadline deadline) => ReadCore(buffer, deadline, frameStart: true);

    private unsafe int ReadCore(Span<byte> buffer, Deadline deadline, bool frameStart)
    {
        var waitFirst = frameStart && _frameStartsWait && (++_frameStarts & 7) != 0;
        if (waitFirst && !WaitReadable(deadline))
        {
            return -1;
        }

        var firstRead = true;
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var n = LibC.Read(_descriptor.Value, start, (nuint)buffer.Length);
                if (n > 0)
                {
                    if (frameStart && firstRead && !waitFirst)
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
                if (!WaitReadable(deadline))
                {
                    return -1;
                }
            }
        }
    }

    /// <summary>Waits for data (or every writer leaving); false when the deadline passed first.</summary>
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
        _keepAlive?.Dispose();
        _descriptor.Dispose();
        _wait.Dispose();
    }
}

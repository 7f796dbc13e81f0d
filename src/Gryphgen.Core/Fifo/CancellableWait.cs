using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// Waits for a descriptor to become ready with poll(2), woken at once by cancellation through an eventfd, so a
/// Ctrl+C ends a wait in microseconds and no thread is ever left blocked in a system call.
/// </summary>
internal sealed class CancellableWait : IDisposable
{
    private readonly int _eventFd;
    private readonly CancellationTokenRegistration _registration;
    private readonly CancellationToken _token;
    private int _disposed;

    public CancellableWait(CancellationToken token)
    {
        _token = token;
        _eventFd = LibC.EventFd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (_eventFd < 0)
        {
            throw new GryphgenException("EventFdFailed", GryphgenErrorKind.ResourceUnavailable,
                $"eventfd failed: {LibC.Describe(Marshal.GetLastPInvokeError())}.");
        }

        _registration = token.Register(static state => ((CancellableWait)state!).Wake(), this);
    }

    /// <summary>
    /// Waits until <paramref name="fd"/> reports one of <paramref name="events"/> (or an error/hang-up).
    /// Returns the revents, or 0 when the deadline passed. Throws <see cref="OperationCanceledException"/>
    /// when cancelled.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public unsafe short Wait(int fd, short events, Deadline deadline)
    {
        var fds = stackalloc LibC.PollFd[2];
        while (true)
        {
            _token.ThrowIfCancellationRequested();
            fds[0] = new LibC.PollFd { Fd = fd, Events = events };
            fds[1] = new LibC.PollFd { Fd = _eventFd, Events = LibC.POLLIN };
            var ready = LibC.Poll(fds, 2, deadline.RemainingMilliseconds);
            if (ready < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR)
                {
                    continue;
                }

                throw new GryphgenException("PollFailed", GryphgenErrorKind.InvalidData, $"poll failed: {LibC.Describe(errno)}.");
            }

            _token.ThrowIfCancellationRequested();
            if (ready == 0)
            {
                if (deadline.HasExpired)
                {
                    return 0;
                }

                continue;
            }

            if (fds[0].Revents != 0)
            {
                return fds[0].Revents;
            }
        }
    }

    /// <summary>For waits that do not sleep (a spin): the same cancellation as <see cref="Wait"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ThrowIfCancellationRequested() => _token.ThrowIfCancellationRequested();

    private unsafe void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        ulong one = 1;
        _ = LibC.Write(_eventFd, (byte*)&one, sizeof(ulong));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.Dispose();
        _ = LibC.Close(_eventFd);
    }
}

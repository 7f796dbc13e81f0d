using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>Owns one file descriptor and closes it exactly once.</summary>
internal sealed class FifoDescriptor : IDisposable
{
    private int _fd;

    public FifoDescriptor(int fd) => _fd = fd;

    public int Value => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(FifoDescriptor));

    public bool IsOpen => _fd >= 0;

    /// <summary>Opens <paramref name="path"/> without following a symlink and without blocking; returns -errno on failure.</summary>
    public static int TryOpen(string path, int access, out FifoDescriptor? descriptor)
    {
        var fd = LibC.Open(path, access | LibC.O_NONBLOCK | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            descriptor = null;
            return -Marshal.GetLastPInvokeError();
        }

        descriptor = new FifoDescriptor(fd);
        return fd;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = LibC.Close(fd);
        }
    }
}

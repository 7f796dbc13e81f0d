using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>An inotify watch that becomes readable whenever someone opens <c>path</c>: a reader arriving at a FIFO.</summary>
internal sealed class InotifyOpenWatch : IDisposable
{
    private readonly FifoDescriptor _descriptor;

    public InotifyOpenWatch(string path)
    {
        var fd = LibC.InotifyInit1(LibC.IN_NONBLOCK | LibC.IN_CLOEXEC);
        if (fd < 0)
        {
            throw new GryphgenException("InotifyFailed", GryphgenErrorKind.ResourceUnavailable,
                $"inotify_init1 failed: {LibC.Describe(Marshal.GetLastPInvokeError())}.", path);
        }

        _descriptor = new FifoDescriptor(fd);
        if (LibC.InotifyAddWatch(fd, path, LibC.IN_OPEN) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _descriptor.Dispose();
            throw FifoErrors.OpenFailed(path, errno);
        }
    }

    public int Descriptor => _descriptor.Value;

    /// <summary>Reads the queued events so the next wait sleeps until a new open.</summary>
    public unsafe void Drain()
    {
        var buffer = stackalloc byte[4096];
        while (LibC.Read(_descriptor.Value, buffer, 4096) > 0)
        {
        }
    }

    public void Dispose() => _descriptor.Dispose();
}

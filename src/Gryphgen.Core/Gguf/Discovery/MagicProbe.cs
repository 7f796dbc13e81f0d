using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>
/// Reads the first four bytes of a file to see whether it is GGUF, without ever blocking: on Unix the file is
/// opened with O_NONBLOCK, so a FIFO met while walking a folder (Gryphgen's own pipes, say) reads as empty instead
/// of waiting forever for a writer, and a socket fails to open instead of hanging.
/// </summary>
internal static class MagicProbe
{
    private const int EPERM = 1;

    public static unsafe bool HasGgufMagic(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return GgufHeaderReader.HasMagic(path);
        }

        var flags = OperatingSystem.IsLinux() ? 0x800 | 0x80000 : 0x4 | 0x1000000; // O_RDONLY | O_NONBLOCK | O_CLOEXEC
        var fd = LibC.Open(path, flags);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is LibC.EACCES or EPERM)
            {
                throw new UnauthorizedAccessException($"Access to '{path}' is denied.");
            }

            throw new IOException($"Cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)}.");
        }

        try
        {
            var head = stackalloc byte[4];
            var got = 0;
            while (got < 4)
            {
                var n = LibC.Read(fd, head + got, (nuint)(4 - got));
                if (n <= 0)
                {
                    // End of file, or EAGAIN on an empty pipe, or EISDIR: not GGUF either way.
                    return false;
                }

                got += (int)n;
            }

            return new ReadOnlySpan<byte>(head, 4).SequenceEqual(GgufHeaderReader.Magic);
        }
        finally
        {
            _ = LibC.Close(fd);
        }
    }
}

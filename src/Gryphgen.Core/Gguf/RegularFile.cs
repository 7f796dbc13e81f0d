using System.Runtime.InteropServices;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Gryphgen.Core.Gguf;

/// <summary>
/// Opens model files for reading only when they are regular files. A FIFO named *.gguf blocks open(2) until a
/// writer comes and cannot seek; a device never ends; a socket cannot be opened at all. So on Linux the target's
/// type is checked before it is opened (symbolic links are followed: a Hugging Face snapshot links to its blob),
/// the open itself never blocks (O_NONBLOCK, O_NOCTTY), and the type of what was opened is checked again, in case
/// the path was swapped between the check and the open.
/// </summary>
internal static class RegularFile
{
    public static SafeFileHandle OpenForReading(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsMacOS())
        {
            return OpenOnMacOS(path);
        }

        if (!OperatingSystem.IsLinux())
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }

        if (!UnixFileStatus.TryOfTarget(path, out var target, out var errno))
        {
            throw OpenFailed(path, errno);
        }

        if (!target.IsRegularFile)
        {
            throw NotRegular(path, target);
        }

        var fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_NOCTTY | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw OpenFailed(path, Marshal.GetLastPInvokeError());
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var opened = UnixFileStatus.OfDescriptor(fd, path);
            if (!opened.IsRegularFile)
            {
                throw NotRegular(path, opened);
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// macOS has no statx: the open still never blocks (its own O_NONBLOCK, O_NOCTTY, O_CLOEXEC values), and a
    /// FIFO or socket is told by its not seeking. A seekable device reads as a too-short file instead.
    /// </summary>
    private static SafeFileHandle OpenOnMacOS(string path)
    {
        const int MacNonBlock = 0x4, MacNoCtty = 0x20000, MacCloseOnExec = 0x1000000;
        var fd = LibC.Open(path, LibC.O_RDONLY | MacNonBlock | MacNoCtty | MacCloseOnExec);
        if (fd < 0)
        {
            throw OpenFailed(path, Marshal.GetLastPInvokeError());
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            _ = RandomAccess.GetLength(handle);
            return handle;
        }
        catch (NotSupportedException)
        {
            handle.Dispose();
            throw new GgufFormatException(GgufFormatError.NotGguf, path, 0, "it is a FIFO or socket, not a regular file, so it is not read as a GGUF model");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads the whole file when it is at most <paramref name="maxBytes"/> long (small side files such as Ollama manifests).</summary>
    public static byte[] ReadAllBytes(string path, int maxBytes)
    {
        using var handle = OpenForReading(path);
        var length = RandomAccess.GetLength(handle);
        if (length > maxBytes)
        {
            throw new IOException($"'{path}' is {length} bytes, more than the {maxBytes} read from such a file.");
        }

        var bytes = new byte[length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
            if (n <= 0)
            {
                break;
            }

            read += n;
        }

        return read == bytes.Length ? bytes : bytes[..read];
    }

    private static GgufFormatException NotRegular(string path, UnixFileStatus status)
        => new(GgufFormatError.NotGguf, path, 0, $"it is a {status.TypeName}, not a regular file, so it is not read as a GGUF model (a FIFO or a device could block or never end)");

    private static Exception OpenFailed(string path, int errno) => errno switch
    {
        LibC.ENOENT or LibC.ENOTDIR => new FileNotFoundException($"Could not find file '{path}'.", path),
        LibC.EACCES or LibC.EPERM => new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
        _ => new IOException($"Cannot open '{path}': {LibC.Describe(errno)}."),
    };
}

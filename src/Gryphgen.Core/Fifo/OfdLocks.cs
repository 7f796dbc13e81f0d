using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// Open-file-description record locks (fcntl F_OFD_*) on byte ranges: owned by the open file description, so
/// released when it closes or its process dies, and in conflict with those of every other description, in this
/// process or another. Gryphgen uses them only as signals between processes (see <see cref="FifoLockLayout"/>).
/// </summary>
internal static unsafe class OfdLocks
{
    /// <summary>Whether another description holds a lock anywhere in the range (false, too, where locks are not supported).</summary>
    public static bool HeldByOthers(int fd, long start, long length)
    {
        var probe = Range(LibC.F_WRLCK, start, length);
        return LibC.FcntlLock(fd, LibC.F_OFD_GETLK, &probe) == 0 && probe.Type != LibC.F_UNLCK;
    }

    /// <summary>Takes a lock of <paramref name="type"/> (F_RDLCK or F_WRLCK) on the range without waiting; false when refused.</summary>
    public static bool TryTake(int fd, short type, long start, long length)
    {
        var record = Range(type, start, length);
        return LibC.FcntlLock(fd, LibC.F_OFD_SETLK, &record) == 0;
    }

    public static void Release(int fd, long start, long length)
    {
        var record = Range(LibC.F_UNLCK, start, length);
        _ = LibC.FcntlLock(fd, LibC.F_OFD_SETLK, &record);
    }

    private static LibC.FileLock Range(short type, long start, long length) =>
        new() { Type = type, Whence = 0, Start = start, Length = length };
}

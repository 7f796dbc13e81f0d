using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// The owner, type and permission bits of a file, from statx(2). statx has one layout on every Linux
/// architecture, unlike struct stat, and lets us inspect an open descriptor (no race with the path).
/// </summary>
public readonly record struct UnixFileStatus(uint OwnerId, uint GroupId, uint Mode, ulong Inode, ulong Size, DateTimeOffset ChangeTime, DateTimeOffset? BirthTime)
{
    private const uint FileTypeMask = 0xF000;
    private const uint FifoType = 0x1000;
    private const uint DirectoryType = 0x4000;
    private const uint SymlinkType = 0xA000;
    private const uint RegularType = 0x8000;
    private const uint StickyBit = 0x200;

    public bool IsFifo => (Mode & FileTypeMask) == FifoType;

    public bool IsDirectory => (Mode & FileTypeMask) == DirectoryType;

    public bool IsSymbolicLink => (Mode & FileTypeMask) == SymlinkType;

    public bool IsRegularFile => (Mode & FileTypeMask) == RegularType;

    public bool IsSticky => (Mode & StickyBit) != 0;

    /// <summary>The rwx bits for owner, group and others (e.g. 0600).</summary>
    public uint Permissions => Mode & 0x1FF;

    public bool IsWritableByGroupOrOthers => (Mode & 0x12) != 0;

    public string TypeName => (Mode & FileTypeMask) switch
    {
        FifoType => "FIFO",
        DirectoryType => "directory",
        SymlinkType => "symbolic link",
        RegularType => "regular file",
        0x2000 => "character device",
        0x6000 => "block device",
        0xC000 => "socket",
        _ => "unknown file type",
    };

    /// <summary>Status of the path itself: a symbolic link is reported as a link, never followed.</summary>
    public static UnixFileStatus? OfPath(string path)
    {
        if (TryStatx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, out var status, out var errno))
        {
            return status;
        }

        if (errno is LibC.ENOENT or LibC.ENOTDIR)
        {
            return null;
        }

        throw new GryphgenException("FileStatusFailed", errno == LibC.EACCES ? GryphgenErrorKind.PermissionDenied : GryphgenErrorKind.InvalidData,
            $"Cannot read the status of '{path}': {LibC.Describe(errno)}.", path);
    }

    /// <summary>Status of what the path leads to, symbolic links followed; false (with errno) when it cannot be read.</summary>
    public static bool TryOfTarget(string path, out UnixFileStatus status, out int errno) => TryStatx(LibC.AT_FDCWD, path, 0, out status, out errno);

    /// <summary>Status of an open descriptor: what was actually opened, whatever the path points to now.</summary>
    public static UnixFileStatus OfDescriptor(int fd, string pathForMessages)
    {
        if (TryStatx(fd, string.Empty, LibC.AT_EMPTY_PATH, out var status, out var errno))
        {
            return status;
        }

        throw new GryphgenException("FileStatusFailed", GryphgenErrorKind.InvalidData,
            $"Cannot read the status of '{pathForMessages}': {LibC.Describe(errno)}.", pathForMessages);
    }

    private static unsafe bool TryStatx(int dirfd, string path, int flags, out UnixFileStatus status, out int errno)
    {
        // struct statx is 256 bytes; offsets from linux/stat.h.
        const uint basicStatsAndBirth = 0xFFF;
        const uint birthTimeBit = 0x800;
        Span<byte> buffer = stackalloc byte[256];
        fixed (byte* p = buffer)
        {
            if (LibC.Statx(dirfd, path, flags, basicStatsAndBirth, p) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                status = default;
                return false;
            }
        }

        errno = 0;
        var changeSeconds = BinaryPrimitives.ReadInt64LittleEndian(buffer[96..]);
        var changeNanos = BinaryPrimitives.ReadUInt32LittleEndian(buffer[104..]);
        var hasBirth = (BinaryPrimitives.ReadUInt32LittleEndian(buffer) & birthTimeBit) != 0;
        var birthSeconds = BinaryPrimitives.ReadInt64LittleEndian(buffer[80..]);
        var birthNanos = BinaryPrimitives.ReadUInt32LittleEndian(buffer[88..]);
        status = new UnixFileStatus(
            OwnerId: BinaryPrimitives.ReadUInt32LittleEndian(buffer[20..]),
            GroupId: BinaryPrimitives.ReadUInt32LittleEndian(buffer[24..]),
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(buffer[28..]),
            Inode: BinaryPrimitives.ReadUInt64LittleEndian(buffer[32..]),
            Size: BinaryPrimitives.ReadUInt64LittleEndian(buffer[40..]),
            ChangeTime: DateTimeOffset.FromUnixTimeSeconds(changeSeconds).AddTicks(changeNanos / 100),
            BirthTime: hasBirth ? DateTimeOffset.FromUnixTimeSeconds(birthSeconds).AddTicks(birthNanos / 100) : null);
        return true;
    }
}

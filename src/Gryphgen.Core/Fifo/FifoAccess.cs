using Gryphgen.Core.Native;
namespace Gryphgen.Core.Fifo;

/// <summary>
/// Checks that what was opened, or is about to be, is a FIFO this user may trust: owned by this user and
/// writable by no one else, unless the caller asked for shared pipes. Messages in a pipe anyone can write
/// may be forged; a pipe someone else owns may be swapped or read.
/// </summary>
public static class FifoAccess
{
    /// <summary>rwx for group and others: a pipe of ours has none of them.</summary>
    private const uint GroupAndOthersBits = 0x3F;

    public static uint CurrentUserId { get; } = LibC.GetEuid();

    /// <summary>Fails unless <paramref name="status"/> is a FIFO that may be used under <paramref name="allowShared"/>.</summary>
    public static void VerifyFifo(UnixFileStatus status, string path, bool allowShared)
    {
        if (status.IsSymbolicLink)
        {
            throw new GryphgenException("GryphPipeIsSymlink", GryphgenErrorKind.PermissionDenied,
                $"'{path}' is a symbolic link where a pipe should be; Gryphgen never follows it. Remove it and create the pipe with New-GryphPipe.", path);
        }

        if (!status.IsFifo)
        {
            throw new GryphgenException("GryphPipeNotFifo", GryphgenErrorKind.InvalidArgument,
                $"'{path}' is a {status.TypeName}, not a FIFO.", path);
        }

        if (allowShared)
        {
            return;
        }

        if (status.OwnerId != CurrentUserId)
        {
            throw new GryphgenException("GryphPipeForeignOwner", GryphgenErrorKind.PermissionDenied,
                $"The pipe '{path}' belongs to user {UserNames.Describe(status.OwnerId)}, not to you; use -AllowShared to trust it.", path);
        }

        if ((status.Permissions & GroupAndOthersBits) != 0)
        {
            // Writable lets others inject messages; readable lets them take messages meant for us.
            throw new GryphgenException("GryphPipeShared", GryphgenErrorKind.PermissionDenied,
                $"The pipe '{path}' has mode {Convert.ToString(status.Permissions, 8)}, open to group or others: anyone could read or inject messages. A pipe must be 0600; use -AllowShared to accept it, or recreate it with New-GryphPipe -Force.", path);
        }
    }

    /// <summary>Fails unless the FIFO at <paramref name="path"/> is this user's to remove (any owner under <paramref name="allowShared"/>).</summary>
    public static void VerifyRemovable(UnixFileStatus status, string path, bool allowShared)
    {
        if (!allowShared && status.OwnerId != CurrentUserId)
        {
            throw new GryphgenException("GryphPipeForeignOwner", GryphgenErrorKind.PermissionDenied,
                $"The pipe '{path}' belongs to user {UserNames.Describe(status.OwnerId)}, not to you; it was left alone. Use -AllowShared to remove it anyway.", path);
        }
    }

    /// <summary>
    /// Fails unless the directory holding a pipe is safe: owned by this user (or root) and writable by no one
    /// else, or sticky like /tmp so others cannot replace what is ours.
    /// </summary>
    public static void VerifyDirectory(string directory, bool allowShared)
    {
        var status = UnixFileStatus.OfPath(directory)
            ?? throw new GryphgenException("GryphPipeDirectoryNotFound", GryphgenErrorKind.NotFound, $"The directory '{directory}' does not exist.", directory);
        if (status.IsSymbolicLink)
        {
            var real = Path.GetFullPath(new DirectoryInfo(directory).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? directory);
            status = UnixFileStatus.OfPath(real)
                ?? throw new GryphgenException("GryphPipeDirectoryNotFound", GryphgenErrorKind.NotFound, $"The directory '{directory}' points nowhere.", directory);
        }

        if (!status.IsDirectory)
        {
            throw new GryphgenException("GryphPipeDirectoryInvalid", GryphgenErrorKind.InvalidArgument, $"'{directory}' is not a directory.", directory);
        }

        if (allowShared)
        {
            return;
        }

        var trustedOwner = status.OwnerId == CurrentUserId || status.OwnerId == 0;
        if (!trustedOwner || (status.IsWritableByGroupOrOthers && !status.IsSticky))
        {
            throw new GryphgenException("GryphPipeDirectoryShared", GryphgenErrorKind.PermissionDenied,
                $"The directory '{directory}' (owner {UserNames.Describe(status.OwnerId)}, mode {Convert.ToString(status.Permissions, 8)}) lets others replace pipes in it; use a private directory or -AllowShared.", directory);
        }
    }
}

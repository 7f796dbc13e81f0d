using System.Globalization;
using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>Creates, describes and removes FIFOs on disk; never follows a symbolic link and never touches a non-FIFO.</summary>
public static class FifoFile
{
    /// <summary>0600: only the owner may read or write.</summary>
    public const uint DefaultMode = 0x180;

    /// <summary>What <see cref="Create"/> did.</summary>
    public enum Outcome
    {
        Created,
        AlreadyExisted,
        Recreated,
    }

    /// <summary>
    /// Creates a FIFO at <paramref name="path"/> with exactly <paramref name="mode"/> (the umask does not apply).
    /// An existing FIFO is kept unchanged unless <paramref name="force"/>; an existing non-FIFO is refused.
    /// </summary>
    public static Outcome Create(string path, uint mode, bool force, bool allowShared)
    {
        var directory = System.IO.Path.GetDirectoryName(path) ?? "/";
        FifoAccess.VerifyDirectory(directory, allowShared);
        var existing = UnixFileStatus.OfPath(path);
        var outcome = Outcome.Created;
        if (existing is { } status)
        {
            if (!status.IsFifo)
            {
                throw new GryphgenException("GryphPipePathOccupied", GryphgenErrorKind.ResourceExists,
                    $"'{path}' already exists and is a {status.TypeName}, not a FIFO; it was left alone.", path);
            }

            if (!force)
            {
                FifoAccess.VerifyFifo(status, path, allowShared);
                return Outcome.AlreadyExisted;
            }

            Remove(path);
            outcome = Outcome.Recreated;
        }

        if (LibC.MkFifo(path, mode) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                LibC.EEXIST => new GryphgenException("GryphPipePathOccupied", GryphgenErrorKind.ResourceExists,
                    $"'{path}' appeared while the pipe was being created.", path),
                LibC.EACCES => new GryphgenException("GryphPipeAccessDenied", GryphgenErrorKind.PermissionDenied,
                    $"Permission denied creating '{path}'.", path),
                _ => new GryphgenException("GryphPipeCreateFailed", GryphgenErrorKind.InvalidData,
                    $"Creating the FIFO '{path}' failed: {LibC.Describe(errno)}.", path),
            };
        }

        if (OperatingSystem.IsWindows())
        {
            throw UnixOnly.NotSupported();
        }

        // mkfifo applies the umask; the directory was verified private (or sticky), so the path is still ours.
        File.SetUnixFileMode(path, (UnixFileMode)mode);

        return outcome;
    }

    /// <summary>Removes the FIFO at <paramref name="path"/>; refuses anything that is not a FIFO.</summary>
    public static void Remove(string path)
    {
        var status = UnixFileStatus.OfPath(path)
            ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound, $"No pipe at '{path}'.", path);
        if (!status.IsFifo)
        {
            throw new GryphgenException("GryphPipeNotFifo", GryphgenErrorKind.InvalidArgument,
                $"'{path}' is a {status.TypeName}, not a FIFO; it was left alone.", path);
        }

        if (LibC.Unlink(path) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new GryphgenException(errno == LibC.EACCES ? "GryphPipeAccessDenied" : "GryphPipeRemoveFailed",
                errno == LibC.EACCES ? GryphgenErrorKind.PermissionDenied : GryphgenErrorKind.InvalidData,
                $"Removing '{path}' failed: {LibC.Describe(errno)}.", path);
        }
    }

    /// <summary>Describes the FIFO at <paramref name="path"/> with the processes holding it, without opening it.</summary>
    public static GryphPipe Describe(string path, bool isEndpoint, IReadOnlyList<PipeHolder>? holders = null)
    {
        var status = UnixFileStatus.OfPath(path)
            ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound, $"No pipe at '{path}'.", path);
        if (!status.IsFifo)
        {
            throw new GryphgenException("GryphPipeNotFifo", GryphgenErrorKind.InvalidArgument,
                $"'{path}' is a {status.TypeName}, not a FIFO.", path);
        }

        holders ??= PipeHolders.Find(path);
        return new GryphPipe
        {
            Name = System.IO.Path.GetFileName(path),
            Path = path,
            Mode = "0" + Convert.ToString(status.Permissions, 8).PadLeft(3, '0'),
            Owner = UserNames.Describe(status.OwnerId),
            CreationTime = (status.BirthTime ?? status.ChangeTime).LocalDateTime,
            IsEndpoint = isEndpoint,
            Readers = holders.Where(h => h.Reading).ToArray(),
            Writers = holders.Where(h => h.Writing).ToArray(),
        };
    }

    /// <summary>Parses an octal mode such as "600" or "0660".</summary>
    public static uint ParseMode(string mode)
    {
        try
        {
            var value = Convert.ToUInt32(mode.Trim(), 8);
            if (value <= 0x1FF)
            {
                return value;
            }
        }
        catch (FormatException)
        {
        }
        catch (OverflowException)
        {
        }

        throw new GryphgenException("GryphPipeModeInvalid", GryphgenErrorKind.InvalidArgument,
            $"'{mode}' is not an octal permission mode such as 0600.", mode.ToString(CultureInfo.InvariantCulture));
    }
}

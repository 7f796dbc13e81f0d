namespace Gryphgen.Tests;

/// <summary>
/// Counts this process's descriptors of the kinds the FIFO code opens: FIFOs, eventfds and inotify
/// instances, read from /proc/self/fd. Counting only these keeps the leak checks exact while the runtime or
/// another test's background work opens files and sockets of its own.
/// </summary>
internal static class OpenDescriptors
{
    public static int Count() =>
        Directory.GetFileSystemEntries("/proc/self/fd").Count(fd =>
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                return false; // closed while we looked
            }

            return target is not null &&
                (target.Contains("eventfd", StringComparison.Ordinal) ||
                 target.Contains("inotify", StringComparison.Ordinal) ||
                 (target.StartsWith('/') && IsFifo(target)));
        });

    private static bool IsFifo(string path)
    {
        try
        {
            return Gryphgen.Core.Fifo.UnixFileStatus.OfPath(path) is { IsFifo: true };
        }
        catch (Gryphgen.Core.GryphgenException)
        {
            return false;
        }
    }
}

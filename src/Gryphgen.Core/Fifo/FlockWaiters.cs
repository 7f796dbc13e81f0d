using System.Globalization;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// Finds processes blocked in flock(2) on a file, from /proc/locks, where each waiter is a line such as
/// <c>3: -> FLOCK  ADVISORY  WRITE 4321 00:1a:5678 0 EOF</c> (device major:minor in hex, then the inode).
/// </summary>
internal static class FlockWaiters
{
    private const string LocksPath = "/proc/locks";

    /// <summary>Whether any process waits for a flock on inode <paramref name="inode"/> (any device: a false match only costs a turn).</summary>
    public static bool AnyBlockedOn(ulong inode)
    {
        string text;
        try
        {
            text = File.ReadAllText(LocksPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        return AnyBlockedOn(text, inode);
    }

    internal static bool AnyBlockedOn(string locks, ulong inode)
    {
        var suffix = ":" + inode.ToString(CultureInfo.InvariantCulture);
        foreach (var line in locks.AsSpan().EnumerateLines())
        {
            var fields = line.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 7 || fields[1] != "->" || fields[2] != "FLOCK")
            {
                continue;
            }

            if (fields[6].EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

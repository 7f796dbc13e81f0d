namespace Gryphgen.Core.Agents;

/// <summary>
/// Keeps an agent's logs bounded across restarts: a log past <see cref="MaxBytes"/> when an agent starts is moved
/// to "&lt;log&gt;.1" (replacing the previous one), so each endpoint keeps at most its current log and the one before.
/// Logs are not removed when an agent stops: they are what tells why a server failed.
/// </summary>
public static class LogRotation
{
    public const long MaxBytes = 8L * 1024 * 1024;

    /// <summary>Moves <paramref name="path"/> to path.1 when it is larger than <paramref name="maxBytes"/>; true when it did.</summary>
    public static bool RotateIfLarge(string path, long maxBytes = MaxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || !info.Exists || info.Length <= maxBytes)
        {
            return false; // a planted symlink is never followed or moved
        }

        try
        {
            File.Move(path, path + ".1", overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // another process holds or owns it: appending to it is still right
        }
    }
}

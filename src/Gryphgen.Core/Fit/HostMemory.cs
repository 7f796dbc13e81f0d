using System.Globalization;

namespace Gryphgen.Core.Fit;

/// <summary>Host memory a model can still use: MemAvailable from /proc/meminfo.</summary>
public static class HostMemory
{
    /// <summary>MemAvailable in bytes, or null where /proc/meminfo is missing or unreadable.</summary>
    public static long? Available(string path = "/proc/meminfo")
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}

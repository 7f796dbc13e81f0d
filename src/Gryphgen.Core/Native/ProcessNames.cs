using System.Diagnostics;

namespace Gryphgen.Core.Native;

/// <summary>Names a process by id (NVML and /proc fd scans give only pids): /proc/&lt;pid&gt;/comm on Linux.</summary>
internal static class ProcessNames
{
    public static string? Of(int pid)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                var comm = $"/proc/{pid}/comm";
                if (File.Exists(comm))
                {
                    var name = File.ReadAllText(comm).Trim();
                    if (name.Length > 0)
                    {
                        return name;
                    }
                }

                // comm is cut to 15 characters and may be empty; the first argument of cmdline is the program.
                var cmdline = $"/proc/{pid}/cmdline";
                return File.Exists(cmdline) ? NonEmpty(File.ReadAllText(cmdline).Split('\0')[0]) : null;
            }

            using var process = Process.GetProcessById(pid);
            return process.ProcessName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            // The process ended, or lives in another pid namespace (containers): no name.
            return null;
        }
    }

    private static string? NonEmpty(string text) => text.Trim() is { Length: > 0 } trimmed ? trimmed : null;
}

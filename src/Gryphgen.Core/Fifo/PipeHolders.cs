using System.Globalization;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// Which processes hold a FIFO open, read from /proc/&lt;pid&gt;/fd and fdinfo. Opening a FIFO to find out would
/// disturb its peers (a reader's open completes a writer's wait), so this never opens it.
/// </summary>
public static class PipeHolders
{
    public static IReadOnlyList<PipeHolder> Find(string path) =>
        FindAll([path]).TryGetValue(path, out var holders) ? holders : Array.Empty<PipeHolder>();

    /// <summary>One scan of /proc for many pipes at once.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<PipeHolder>> FindAll(IReadOnlyCollection<string> paths)
    {
        var wanted = new HashSet<string>(paths, StringComparer.Ordinal);
        var found = new Dictionary<string, Dictionary<int, PipeHolder>>(StringComparer.Ordinal);
        IEnumerable<string> processes;
        try
        {
            processes = Directory.EnumerateDirectories("/proc");
        }
        catch (DirectoryNotFoundException)
        {
            return new Dictionary<string, IReadOnlyList<PipeHolder>>();
        }

        foreach (var processDirectory in processes)
        {
            if (!int.TryParse(Path.GetFileName(processDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                foreach (var fdLink in Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd")))
                {
                    var target = new FileInfo(fdLink).LinkTarget;
                    if (target is null || !wanted.Contains(target))
                    {
                        continue;
                    }

                    var (reading, writing) = ReadAccess(Path.Combine(processDirectory, "fdinfo", Path.GetFileName(fdLink)));
                    if (!found.TryGetValue(target, out var byProcess))
                    {
                        found[target] = byProcess = new Dictionary<int, PipeHolder>();
                    }

                    var name = byProcess.TryGetValue(pid, out var earlier) ? earlier.ProcessName : ProcessNames.Of(pid) ?? "?";
                    byProcess[pid] = new PipeHolder(pid, name, reading || (earlier?.Reading ?? false), writing || (earlier?.Writing ?? false));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another user's process, or one that just exited: nothing we may see.
            }
        }

        return found.ToDictionary(p => p.Key, p => (IReadOnlyList<PipeHolder>)p.Value.Values.OrderBy(h => h.ProcessId).ToArray(), StringComparer.Ordinal);
    }

    private static (bool Reading, bool Writing) ReadAccess(string fdinfo)
    {
        foreach (var line in File.ReadLines(fdinfo))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                var flags = Convert.ToInt32(line["flags:".Length..].Trim(), 8);
                return (flags & LibC.O_ACCMODE) switch
                {
                    LibC.O_RDONLY => (true, false),
                    LibC.O_WRONLY => (false, true),
                    _ => (true, true),
                };
            }
        }

        return (false, false);
    }

}

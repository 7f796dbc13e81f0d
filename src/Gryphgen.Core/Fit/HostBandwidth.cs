using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>
/// The host's memory read bandwidth, which sets the pace of layers and experts left in host memory: measured by
/// reading a buffer larger than any CPU cache on every core (best of three passes, a few hundred milliseconds), and
/// cached per boot in the user's cache folder, since it does not change while the machine runs.
/// </summary>
public static class HostBandwidth
{
    private const int BufferBytes = 256 * 1024 * 1024;
    private const string CacheFormat = "gryphgen-host-bandwidth-1";

    /// <summary>The cached figure for this boot, else a fresh measurement (then cached), GB/s.</summary>
    public static double MeasuredOrCached(CancellationToken cancellationToken = default)
    {
        var boot = BootId();
        var cache = CachePath();
        if (boot is not null && cache is not null && ReadCache(cache, boot) is { } cached)
        {
            return cached;
        }

        var measured = Measure(cancellationToken);
        if (boot is not null && cache is not null)
        {
            WriteCache(cache, boot, measured);
        }

        return measured;
    }

    /// <summary>Reads a 256 MiB buffer on every core and returns the best pass's rate, GB/s.</summary>
    public static double Measure(CancellationToken cancellationToken = default)
    {
        var words = BufferBytes / sizeof(long);
        var buffer = GC.AllocateUninitializedArray<long>(words);
        var parts = Math.Max(1, Environment.ProcessorCount);
        var chunk = (words / parts / Vector<long>.Count) * Vector<long>.Count;
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = parts };

        // Touch every page first, so the passes time reads, not page faults.
        Parallel.For(0, parts, options, p => buffer.AsSpan(p * chunk, chunk).Fill(p));
        var best = double.MaxValue;
        var sink = 0L;
        for (var pass = 0; pass < 3; pass++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            Parallel.For(0, parts, options, p =>
            {
                var sum = Vector<long>.Zero;
                var span = buffer.AsSpan(p * chunk, chunk);
                for (var i = 0; i < span.Length; i += Vector<long>.Count)
                {
                    sum += new Vector<long>(span.Slice(i, Vector<long>.Count));
                }

                Interlocked.Add(ref sink, Vector.Sum(sum));
            });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        GC.KeepAlive(sink);
        return (double)chunk * parts * sizeof(long) / best / 1e9;
    }

    /// <summary>This boot's id (Linux), or null where the system gives none.</summary>
    private static string? BootId()
    {
        try
        {
            var id = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            return id.Length is > 0 and < 100 ? id : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? CachePath()
    {
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache")
            : null;
        return root is null ? null : Path.Combine(root, "gryphgen", "host-bandwidth");
    }

    private static double? ReadCache(string path, string boot)
    {
        try
        {
            // A planted link or a huge file is not a cache: the regular-file opener refuses the one, the cap the other.
            var text = System.Text.Encoding.ASCII.GetString(RegularFile.ReadAllBytes(path, 512)).Split('\n');
            return text.Length >= 3 && text[0] == CacheFormat && text[1] == boot
                && double.TryParse(text[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is > 0 and < 1e6 ? value : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GgufFormatException)
        {
            return null;
        }
    }

    private static void WriteCache(string path, string boot, double value)
    {
        try
        {
            var folder = Path.GetDirectoryName(path)!;
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            File.WriteAllText(temporary, FormattableString.Invariant($"{CacheFormat}\n{boot}\n{value:0.###}\n"));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written only costs the next call a measurement.
        }
    }
}

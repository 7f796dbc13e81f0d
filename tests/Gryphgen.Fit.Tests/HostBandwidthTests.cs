using System.Globalization;
using Gryphgen.Core.Fit;

namespace Gryphgen.Fit.Tests;

/// <summary>The host's memory bandwidth is measured once a boot and then read back from the user's cache.</summary>
public sealed class HostBandwidthTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "gryph-cache-" + Guid.NewGuid().ToString("N"));
    private readonly string? _saved = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");

    public HostBandwidthTests() => Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _cache);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _saved);
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    [SkippableFact]
    public void TheMeasurement_IsCachedForThisBoot_InAPrivateFolder()
    {
        Skip.IfNot(File.Exists("/proc/sys/kernel/random/boot_id"), "no boot id on this system: the figure is measured on every call");
        var measured = HostBandwidth.MeasuredOrCached();
        Assert.InRange(measured, 0.5, 2000);

        var file = Path.Combine(_cache, "gryphgen", "host-bandwidth");
        var lines = File.ReadAllLines(file);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), lines[1]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));

        // The next call reads the cache: a figure written there is what it returns.
        File.WriteAllText(file, $"{lines[0]}\n{lines[1]}\n123.5\n");
        Assert.Equal(123.5, HostBandwidth.MeasuredOrCached());

        // Another boot's figure, or a file that is not the cache, is measured again.
        File.WriteAllText(file, $"{lines[0]}\nanother-boot\n123.5\n");
        Assert.NotEqual(123.5, HostBandwidth.MeasuredOrCached());
        File.WriteAllText(file, "garbage");
        Assert.InRange(HostBandwidth.MeasuredOrCached(), 0.5, 2000);
        Assert.Equal(lines[1], File.ReadAllLines(file)[1]);
        _ = double.Parse(File.ReadAllLines(file)[2], CultureInfo.InvariantCulture);
    }
}

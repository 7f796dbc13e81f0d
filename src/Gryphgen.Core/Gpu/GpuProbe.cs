using Gryphgen.Core.Gpu.Nvml;

using Gryphgen.Core.Native;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// What <see cref="GpuStatusReader"/> looks for and how: the NVML library paths, the tool runner, timeouts.
/// The default looks at the real machine; tests replace parts to simulate drivers and tools.
/// </summary>
internal sealed class GpuProbe
{
    public static GpuProbe Default { get; } = new();

    public IReadOnlyList<string> NvmlLibraries { get; init; } = NvmlLibraryLocations.Candidates();

    /// <summary>Loads NVML from the first path that works, adding each path tried; null when none does.</summary>
    public Func<IReadOnlyList<string>, ICollection<string>, (INvmlApi Api, IDisposable? Library)?> LoadNvml { get; init; } = LoadNativeNvml;

    public IGpuToolRunner Tools { get; init; } = GpuToolRunner.Instance;

    /// <summary>How long one nvidia-smi / amd-smi / rocm-smi run may take.</summary>
    public TimeSpan ToolTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public Func<int, string?> ProcessName { get; init; } = ProcessNames.Of;

    private static (INvmlApi, IDisposable?)? LoadNativeNvml(IReadOnlyList<string> candidates, ICollection<string> tried)
    {
        var api = NvmlNativeApi.TryLoad(candidates, tried);
        return api is null ? null : (api, api);
    }
}

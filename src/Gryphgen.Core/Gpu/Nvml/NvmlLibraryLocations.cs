namespace Gryphgen.Core.Gpu.Nvml;

/// <summary>Where NVIDIA's drivers install the NVML library, in the order Gryphgen tries them.</summary>
internal static class NvmlLibraryLocations
{
    public static IReadOnlyList<string> Candidates()
    {
        if (OperatingSystem.IsWindows())
        {
            var candidates = new List<string> { "nvml.dll" };
            var system = Environment.GetFolderPath(Environment.SpecialFolder.System);
            if (system.Length > 0)
            {
                candidates.Add(Path.Combine(system, "nvml.dll"));
            }

            var programFiles = Environment.GetEnvironmentVariable("ProgramW6432") ?? Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles);
            if (!string.IsNullOrEmpty(programFiles))
            {
                candidates.Add(Path.Combine(programFiles, "NVIDIA Corporation", "NVSMI", "nvml.dll"));
            }

            return candidates;
        }

        // The bare soname goes through the dynamic loader's own search (ld.so.cache, LD_LIBRARY_PATH);
        // the full paths cover distributions and WSL where the cache lacks it.
        return
        [
            "libnvidia-ml.so.1",
            "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",
            "/usr/lib64/libnvidia-ml.so.1",
            "/usr/lib/aarch64-linux-gnu/libnvidia-ml.so.1",
            "/usr/lib/wsl/lib/libnvidia-ml.so.1",
        ];
    }
}

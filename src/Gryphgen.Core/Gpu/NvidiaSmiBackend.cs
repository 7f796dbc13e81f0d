namespace Gryphgen.Core.Gpu;

/// <summary>
/// Reads NVIDIA GPUs through nvidia-smi when NVML cannot be loaded in-process. Each sample runs the two CSV
/// queries (cheap); <c>nvidia-smi -q -x</c>, which is slow but is the only source of the CUDA version and MIG
/// devices, runs on the first sample and then only while some GPU has MIG devices.
/// </summary>
internal sealed class NvidiaSmiBackend(IGpuToolRunner tools, string path, TimeSpan timeout) : IGpuBackend
{
    private static readonly string[] QueryGpuArguments =
        ["--query-gpu=" + string.Join(",", NvidiaSmiCsvParser.QueryGpuFields), "--format=csv,noheader,nounits"];

    private static readonly string[] QueryAppsArguments =
        ["--query-compute-apps=" + string.Join(",", NvidiaSmiCsvParser.QueryComputeAppsFields), "--format=csv,noheader,nounits"];

    private static readonly string[] XmlArguments = ["-q", "-x"];

    private bool _xmlNeeded = true;
    private string? _cudaVersion;

    public GpuSource Source => GpuSource.NvidiaSmi;

    public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken)
    {
        var timestamp = DateTime.UtcNow;
        var gpus = NvidiaSmiCsvParser.ParseQueryGpu(tools.Run(path, QueryGpuArguments, timeout, cancellationToken), null, timestamp);
        var apps = NvidiaSmiCsvParser.ParseComputeApps(tools.Run(path, QueryAppsArguments, timeout, cancellationToken), null);

        IReadOnlyList<GpuStatus> fromXml = [];
        if (_xmlNeeded)
        {
            (_cudaVersion, fromXml) = NvidiaSmiXmlParser.ParseLog(tools.Run(path, XmlArguments, timeout, cancellationToken), timestamp);
            _xmlNeeded = fromXml.Any(g => g.MigDevices.Count > 0);
        }

        return Merge(gpus, apps, fromXml, _cudaVersion);
    }

    /// <summary>Joins the CSV rows, their processes (by GPU UUID) and the XML extras (by UUID, else position).</summary>
    internal static IReadOnlyList<GpuStatus> Merge(
        IReadOnlyList<GpuStatus> gpus,
        IReadOnlyList<(string? GpuUuid, GpuProcess Process)> apps,
        IReadOnlyList<GpuStatus> fromXml,
        string? cudaVersion)
    {
        var merged = new List<GpuStatus>(gpus.Count);
        for (var i = 0; i < gpus.Count; i++)
        {
            var gpu = gpus[i];
            var xml = fromXml.FirstOrDefault(x => x.Uuid is not null && x.Uuid == gpu.Uuid) ?? (i < fromXml.Count ? fromXml[i] : null);
            merged.Add(gpu with
            {
                CudaVersion = gpu.CudaVersion ?? cudaVersion ?? xml?.CudaVersion,
                Processes = apps.Where(a => a.GpuUuid is not null && a.GpuUuid == gpu.Uuid).Select(a => a.Process).ToList(),
                MigDevices = xml?.MigDevices ?? [],
            });
        }

        return merged;
    }

    public void Dispose()
    {
        // Nothing held between samples.
    }
}

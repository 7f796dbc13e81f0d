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
    private IReadOnlyList<string> _warnings = [];

    public GpuSource Source => GpuSource.NvidiaSmi;

    public IReadOnlyList<string> Warnings => _warnings;

    public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken)
    {
        _warnings = [];
        var timestamp = DateTime.UtcNow;
        var gpus = ParseCsv(QueryGpuArguments, text => NvidiaSmiCsvParser.ParseQueryGpu(text, null, timestamp), cancellationToken);
        var apps = ParseCsv(QueryAppsArguments, text => NvidiaSmiCsvParser.ParseComputeApps(text, null), cancellationToken);

        IReadOnlyList<GpuStatus> fromXml = [];
        if (_xmlNeeded)
        {
            try
            {
                (_cudaVersion, fromXml) = NvidiaSmiXmlParser.ParseLog(tools.Run(path, XmlArguments, timeout, cancellationToken), timestamp);
                _xmlNeeded = fromXml.Any(g => g.MigDevices.Count > 0);
            }
            catch (GpuToolException ex)
            {
                // The XML log only adds the CUDA version and MIG devices: when the tool fails to give it (an exit
                // code, a timeout), the GPUs the CSV found are still reported. XML that does not parse stays a
                // sample error, as any other garbage. It is not asked again in this run, so a hanging -q -x costs
                // one timeout, not one per sample.
                _xmlNeeded = false;
                _warnings = [$"{ToolName} {string.Join(' ', XmlArguments)} failed, so CudaVersion is null and MigDevices empty: {ex.Message}"];
            }
        }

        return Merge(gpus, apps, fromXml, _cudaVersion);
    }

    private string ToolName => System.IO.Path.GetFileName(path);

    /// <summary>Runs one CSV query; output that does not parse as the CSV asked for is an error naming the tool and the query.</summary>
    private T ParseCsv<T>(string[] arguments, Func<string, T> parse, CancellationToken cancellationToken)
    {
        var text = tools.Run(path, arguments, timeout, cancellationToken);
        try
        {
            return parse(text);
        }
        catch (FormatException ex)
        {
            throw new GpuToolException($"{ToolName} {arguments[0]} did not answer with the CSV asked for: {ex.Message}", ex);
        }
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

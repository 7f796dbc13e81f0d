namespace Gryphgen.Core.Gpu;

/// <summary>Reads AMD GPUs through the older <c>rocm-smi --json</c>.</summary>
internal sealed class RocmSmiBackend(IGpuToolRunner tools, string path, TimeSpan timeout) : IGpuBackend
{
    private static readonly string[] Arguments =
    [
        "--showproductname", "--showuniqueid", "--showuse", "--showmemuse", "--showmeminfo", "vram", "--showtemp",
        "--showpower", "--showmaxpower", "--showclocks", "--showfan", "--showperflevel", "--showdriverversion", "--json",
    ];

    public GpuSource Source => GpuSource.RocmSmi;

    public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken) =>
        RocmSmiJsonParser.Parse(tools.Run(path, Arguments, timeout, cancellationToken), DateTime.UtcNow);

    public void Dispose()
    {
        // Nothing held between samples.
    }
}

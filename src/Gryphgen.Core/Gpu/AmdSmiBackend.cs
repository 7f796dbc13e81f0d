namespace Gryphgen.Core.Gpu;

/// <summary>Reads AMD GPUs through <c>amd-smi metric --json</c> (ROCm 6+).</summary>
internal sealed class AmdSmiBackend(IGpuToolRunner tools, string path, TimeSpan timeout) : IGpuBackend
{
    private static readonly string[] Arguments = ["metric", "--json"];

    public GpuSource Source => GpuSource.AmdSmi;

    public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken) =>
        AmdSmiJsonParser.Parse(tools.Run(path, Arguments, timeout, cancellationToken), DateTime.UtcNow);

    public void Dispose()
    {
        // Nothing held between samples.
    }
}

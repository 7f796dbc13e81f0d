using Gryphgen.Core.Gpu.Nvml;

namespace Gryphgen.Core.Gpu;

/// <summary>Reads the GPUs through NVML, in-process: the fastest backend and the only one with MIG UUIDs.</summary>
internal sealed class NvmlBackend(NvmlSession session) : IGpuBackend
{
    public GpuSource Source => GpuSource.Nvml;

    public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return session.Read(DateTime.UtcNow);
    }

    public void Dispose() => session.Dispose();
}

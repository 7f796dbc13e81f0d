namespace Gryphgen.Core.Gpu;

/// <summary>One way of reading the GPUs (NVML, nvidia-smi, amd-smi, rocm-smi), open for one call or one run.</summary>
internal interface IGpuBackend : IDisposable
{
    GpuSource Source { get; }

    /// <summary>Reads every GPU once, all stamped with the same UTC time.</summary>
    IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken);

    /// <summary>What the last <see cref="Query"/> could not read though it still answered (a field left null, and why).</summary>
    IReadOnlyList<string> Warnings => [];
}

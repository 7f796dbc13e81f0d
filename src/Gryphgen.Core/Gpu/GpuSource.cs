namespace Gryphgen.Core.Gpu;

/// <summary>Where a GPU reading came from, or (as a request) which backend to use.</summary>
public enum GpuSource
{
    /// <summary>A request only: try NVML, then nvidia-smi, then amd-smi, then rocm-smi.</summary>
    Auto = 0,

    /// <summary>NVIDIA's management library (libnvidia-ml.so.1 / nvml.dll), loaded in-process.</summary>
    Nvml,

    /// <summary>The nvidia-smi command-line tool (CSV queries plus <c>-q -x</c>).</summary>
    NvidiaSmi,

    /// <summary>AMD's amd-smi tool (<c>amd-smi metric --json</c>).</summary>
    AmdSmi,

    /// <summary>The older rocm-smi tool (<c>rocm-smi --json</c>).</summary>
    RocmSmi,
}

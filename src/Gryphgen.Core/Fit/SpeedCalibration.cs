namespace Gryphgen.Core.Fit;

/// <summary>
/// The constants the speed estimate applies to a device's datasheet figures, per backend and quantisation family:
/// how much of its memory bandwidth llama.cpp's decode reaches, the fixed cost of a decoded token (kernel launches
/// and synchronisation, per layer and per MoE layer, which bandwidth does not explain), and how much of its dense
/// FP16 matrix throughput a 512-token prompt reaches. Fitted once, by hand, to the published llama-bench results
/// of tests/data/llama-bench-published.csv (tg128 and pp512, one stock card at full offload, llama.cpp builds from
/// June 2024 on); the estimate never looks that table up. Where the table does not separate the families (decode on
/// every backend), one fraction serves them all.
/// </summary>
public static class SpeedCalibration
{
    /// <summary>PCIe bandwidth the host's weights cross each prompt batch when llama.cpp runs host layers on the GPU, GB/s (PCIe 4.0 x16 as measured, not its 32 GB/s nominal).</summary>
    public const double PcieGBps = 25;

    /// <summary>Share of the measured host bandwidth a CPU decode reaches.</summary>
    public const double HostDecodeEfficiency = 0.85;

    /// <summary>Effective prompt throughput of one host core on quantised weights, GFLOPS (AVX2/AVX-512 or NEON dot products).</summary>
    public const double HostGflopsPerCore = 40;

    /// <summary>
    /// Tokens a routed expert must see in a prompt batch to run at half the dense rate: a 512-token batch gives each
    /// expert 512 × used / count tokens (gpt-oss-120b: 16, Qwen3-30B-A3B: 32, gpt-oss-20b: 64), and small batches
    /// use the matrix units poorly.
    /// </summary>
    public const double ExpertHalfRateTokens = 100;

    /// <summary>Fraction of memory bandwidth a decode step reaches on <paramref name="gpu"/>'s backend with weights of <paramref name="family"/>.</summary>
    public static double DecodeEfficiency(GpuTarget gpu, QuantFamily family)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        return gpu.Backend switch
        {
            GpuBackend.Cuda => 0.90,
            GpuBackend.Rocm => 0.60,
            GpuBackend.Metal => 0.85,
            GpuBackend.Vulkan => gpu.Vendor == GpuVendor.Nvidia ? 0.70 : 0.58,
            _ => HostDecodeEfficiency,
        };
    }

    /// <summary>
    /// Work of one decoded weight in FLOPs (dequantisation and the dot product) at the device's FP16 rate: on Apple
    /// silicon's GPUs, with no matrix units, a decode of a fast-memory chip is partly compute-bound (the M1 Max reads
    /// Q4_0 at 59 % of its bandwidth where the M1 reads it at 81 %). 0 where compute never limits decode.
    /// </summary>
    public static double DecodeFlopsPerWeight(GpuBackend backend) => backend == GpuBackend.Metal ? 24 : 0;

    /// <summary>Fraction of dense FP16 matrix throughput a 512-token prompt batch reaches on <paramref name="gpu"/>'s backend.</summary>
    public static double PromptEfficiency(GpuTarget gpu, QuantFamily family)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        return gpu.Backend switch
        {
            GpuBackend.Cuda => family == QuantFamily.Unquantised ? 0.45 : 0.50,
            GpuBackend.Rocm => 0.32,
            GpuBackend.Metal => family == QuantFamily.Unquantised ? 0.80 : 0.60,
            GpuBackend.Vulkan => gpu.Vendor == GpuVendor.Nvidia ? 0.50 : 0.25,
            _ => 1.0,
        };
    }

    /// <summary>Fixed time of one decoded token on <paramref name="backend"/>, seconds, for a model of <paramref name="layers"/> blocks of which <paramref name="moeLayers"/> route experts.</summary>
    public static double TokenOverheadSeconds(GpuBackend backend, int layers, int moeLayers) => backend switch
    {
        GpuBackend.Cuda => 0.25e-3 + (layers * 40e-6) + (moeLayers * 20e-6),
        GpuBackend.Rocm => 2e-3 + (layers * 20e-6) + (moeLayers * 40e-6),
        GpuBackend.Metal => 2e-3 + (layers * 40e-6) + (moeLayers * 100e-6),
        GpuBackend.Vulkan => 0.25e-3 + (layers * 20e-6) + (moeLayers * 20e-6),
        _ => 0.2e-3,
    };
}

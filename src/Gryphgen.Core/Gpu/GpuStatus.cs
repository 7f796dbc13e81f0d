namespace Gryphgen.Core.Gpu;

/// <summary>
/// One sample of one GPU. Every reading is nullable: null means the GPU, the driver or the tool does not
/// report it (nvidia-smi's <c>[N/A]</c>, <c>[Not Supported]</c>, NVML's NOT_SUPPORTED...), never zero.
/// </summary>
public sealed record GpuStatus
{
    private readonly DateTime _timestamp;
    private readonly IReadOnlyList<GpuProcess> _processes = TextList.Empty<GpuProcess>();
    private readonly IReadOnlyList<GpuMigDevice> _migDevices = TextList.Empty<GpuMigDevice>();
    private readonly IReadOnlyList<string> _alerts = TextList.Empty<string>();

    /// <summary>The GPU's index as its tool numbers it (nvidia-smi / NVML index, rocm-smi card number).</summary>
    public required int Index { get; init; }

    public string? Name { get; init; }

    /// <summary>GPU-... for NVIDIA; AMD's unique id where known.</summary>
    public string? Uuid { get; init; }

    /// <summary>NVIDIA or AMD.</summary>
    public string? Vendor { get; init; }

    /// <summary>PCI bus id (e.g. 00000000:01:00.0) where the source gives it.</summary>
    public string? PciBusId { get; init; }

    /// <summary>Total framebuffer memory in bytes.</summary>
    public long? MemoryTotal { get; init; }

    /// <summary>Used framebuffer memory in bytes.</summary>
    public long? MemoryUsed { get; init; }

    /// <summary>Free framebuffer memory in bytes: what a new model can still load into.</summary>
    public long? MemoryFree { get; init; }

    /// <summary>Memory the driver reserves (NVML v2 / nvidia-smi memory.reserved), in bytes.</summary>
    public long? MemoryReserved { get; init; }

    /// <summary>Memory bandwidth in GB/s from the GPU catalogue, matched by <see cref="Name"/>; null for a card it does not know.</summary>
    public double? MemoryBandwidthGBps => Name is null ? null : Fit.GpuCatalog.Find(Name)?.MemoryBandwidthGBps;

    /// <summary>Dense FP16 matrix throughput in TFLOPS from the GPU catalogue, matched by <see cref="Name"/>; null for a card it does not know.</summary>
    public double? TensorTflops => Name is null ? null : Fit.GpuCatalog.Find(Name)?.TensorTflops;

    /// <summary>MemoryUsed / MemoryTotal in percent, one decimal.</summary>
    public double? MemoryUsedPercent =>
        MemoryTotal is > 0 && MemoryUsed is { } used ? Math.Round(100.0 * used / MemoryTotal.Value, 1) : null;

    /// <summary>Percent of time a kernel ran during the last sample period.</summary>
    public int? UtilizationGpu { get; init; }

    /// <summary>Percent of time the memory controller was busy.</summary>
    public int? UtilizationMemory { get; init; }

    /// <summary>GPU core (NVIDIA) or edge (AMD) temperature, degrees Celsius.</summary>
    public int? TemperatureC { get; init; }

    /// <summary>Board power draw, watts.</summary>
    public double? PowerDrawW { get; init; }

    /// <summary>Enforced power limit, watts.</summary>
    public double? PowerLimitW { get; init; }

    /// <summary>Fan speed, percent of maximum.</summary>
    public int? FanPercent { get; init; }

    /// <summary>Current SM (shader) clock, MHz.</summary>
    public int? ClockSmMHz { get; init; }

    /// <summary>Current memory clock, MHz.</summary>
    public int? ClockMemoryMHz { get; init; }

    /// <summary>P0 (fastest) ... P15 for NVIDIA; the performance level (auto, ...) for AMD.</summary>
    public string? PerformanceState { get; init; }

    public string? DriverVersion { get; init; }

    /// <summary>Highest CUDA version the driver supports (e.g. 12.2); null for AMD.</summary>
    public string? CudaVersion { get; init; }

    public IReadOnlyList<GpuProcess> Processes { get => _processes; init => _processes = TextList.Of(value); }

    /// <summary>MIG slices; empty when MIG is off or unsupported.</summary>
    public IReadOnlyList<GpuMigDevice> MigDevices { get => _migDevices; init => _migDevices = TextList.Of(value); }

    public GpuSource Source { get; init; }

    /// <summary>When the sample was taken, as local time (Kind Local), like every time Gryphgen shows.</summary>
    public DateTime Timestamp
    {
        get => _timestamp;
        init => _timestamp = value.ToLocalTime();
    }

    /// <summary>Thresholds this sample crossed (memory, temperature); empty when none.</summary>
    public IReadOnlyList<string> Alerts { get => _alerts; init => _alerts = TextList.Of(value); }

    /// <summary>True when the driver reports the GPU as lost (fell off the bus); the readings are then null.</summary>
    public bool IsLost { get; init; }

    /// <summary>Why this GPU could not be read (lost device), or null.</summary>
    public string? Error { get; init; }
}

namespace Gryphgen.Core.Gpu;

/// <summary>One MIG (Multi-Instance GPU) slice of a GPU, with its own memory.</summary>
public sealed record GpuMigDevice
{
    /// <summary>Position of the slice on its parent GPU.</summary>
    public required int Index { get; init; }

    /// <summary>MIG device UUID (MIG-...); null where the source does not give it (nvidia-smi -q -x).</summary>
    public string? Uuid { get; init; }

    public int? GpuInstanceId { get; init; }

    public int? ComputeInstanceId { get; init; }

    /// <summary>Slice memory in bytes.</summary>
    public long? MemoryTotal { get; init; }

    /// <summary>Used slice memory in bytes.</summary>
    public long? MemoryUsed { get; init; }

    /// <summary>Free slice memory in bytes.</summary>
    public long? MemoryFree { get; init; }

    /// <summary>Slice memory reserved by the driver, in bytes.</summary>
    public long? MemoryReserved { get; init; }

    public override string ToString() => $"MIG {Index} (GI {GpuInstanceId}, CI {ComputeInstanceId})";
}

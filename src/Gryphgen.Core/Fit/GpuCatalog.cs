namespace Gryphgen.Core.Fit;

/// <summary>
/// A GPU (or a slice of one) to plan for. <see cref="FreeBytes"/> is what a new model can load into; for a
/// catalogue card or <c>-MemoryBytes</c> it is the whole memory, for a queried GPU its current free memory.
/// </summary>
public sealed record GpuTarget
{
    /// <summary>Display name, e.g. "RTX 4090" or "GPU 0: NVIDIA H100 80GB HBM3".</summary>
    public required string Name { get; init; }

    /// <summary>Total memory, bytes.</summary>
    public required long TotalBytes { get; init; }

    /// <summary>Memory free for a new model, bytes.</summary>
    public required long FreeBytes { get; init; }

    /// <summary>
    /// Unified memory (Apple silicon): CPU and GPU share it. <see cref="TotalBytes"/> is then the machine's RAM and
    /// <see cref="FreeBytes"/> what macOS lets the GPU wire (its recommendedMaxWorkingSetSize).
    /// </summary>
    public bool IsUnifiedMemory { get; init; }
}

/// <summary>
/// Cards users plan for without owning them (<c>-GpuName</c>). Discrete cards carry the memory nvidia-smi reports
/// as memory.total; Apple M-series entries are unified memory, of which macOS lets the GPU use about two thirds
/// (up to 36 GB of RAM) or three quarters (above), its default recommendedMaxWorkingSetSize.
/// </summary>
public static class GpuCatalog
{
    private const long MiB = 1024L * 1024;
    private const long GiB = 1024 * MiB;

    /// <summary>All entries, in the order shown by tab completion.</summary>
    public static IReadOnlyList<GpuTarget> Entries { get; } =
    [
        Card("RTX 3060 12GB", 12288 * MiB),
        Card("RTX 3090", 24576 * MiB),
        Card("RTX 4060 Ti 16GB", 16380 * MiB),
        Card("RTX 4070 Ti Super", 16376 * MiB),
        Card("RTX 4080", 16376 * MiB),
        Card("RTX 4090", 24564 * MiB),
        Card("RTX 5090", 32607 * MiB),
        Card("A100 40GB", 40960 * MiB),
        Card("A100 80GB", 81920 * MiB),
        Card("H100 80GB", 81559 * MiB),
        Card("H200 141GB", 143771 * MiB),
        Card("L4", 23034 * MiB),
        Card("L40S", 46068 * MiB),
        Card("T4", 15360 * MiB),
        Apple("Apple M1 16GB", 16 * GiB),
        Apple("Apple M2 Pro 32GB", 32 * GiB),
        Apple("Apple M3 Max 64GB", 64 * GiB),
        Apple("Apple M3 Max 128GB", 128 * GiB),
        Apple("Apple M4 Max 128GB", 128 * GiB),
        Apple("Apple M2 Ultra 192GB", 192 * GiB),
        Apple("Apple M3 Ultra 512GB", 512 * GiB),
    ];

    /// <summary>The entry named <paramref name="name"/> (case and spacing ignored), or null.</summary>
    public static GpuTarget? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = Normalize(name);
        return Entries.FirstOrDefault(e => Normalize(e.Name) == key);
    }

    private static string Normalize(string name) =>
        new(name.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant).ToArray());

    private static GpuTarget Card(string name, long bytes) => new() { Name = name, TotalBytes = bytes, FreeBytes = bytes };

    private static GpuTarget Apple(string name, long bytes) => new()
    {
        Name = name,
        TotalBytes = bytes,
        FreeBytes = bytes <= 36 * GiB ? bytes * 2 / 3 : bytes * 3 / 4,
        IsUnifiedMemory = true,
    };
}

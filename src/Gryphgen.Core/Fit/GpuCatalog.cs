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

    /// <summary>Memory bandwidth, GB/s (10^9 bytes a second) as the vendor's datasheet gives it; null when unknown.</summary>
    public double? MemoryBandwidthGBps { get; init; }

    /// <summary>
    /// Dense FP16 throughput of the matrix units, TFLOPS, as the datasheet gives it (tensor cores with FP16
    /// accumulation on NVIDIA, WMMA/matrix cores on AMD, the GPU's FP16 rate on Apple silicon, which has no matrix
    /// units); null when unknown.
    /// </summary>
    public double? TensorTflops { get; init; }

    /// <summary>The llama.cpp backend the card runs under: what <see cref="SpeedCalibration"/> is keyed by.</summary>
    public GpuBackend Backend { get; init; } = GpuBackend.Cuda;

    /// <summary>Who made the card: Vulkan's kernels reach different shares of NVIDIA's and AMD's hardware.</summary>
    public GpuVendor Vendor { get; init; } = GpuVendor.Nvidia;
}

/// <summary>A GPU's maker.</summary>
public enum GpuVendor
{
    /// <summary>NVIDIA.</summary>
    Nvidia,

    /// <summary>AMD.</summary>
    Amd,

    /// <summary>Apple.</summary>
    Apple,

    /// <summary>Anyone else (Intel, Moore Threads...).</summary>
    Other,
}

/// <summary>The llama.cpp backend a device runs under.</summary>
public enum GpuBackend
{
    /// <summary>NVIDIA, CUDA.</summary>
    Cuda,

    /// <summary>AMD, ROCm/HIP.</summary>
    Rocm,

    /// <summary>Apple silicon, Metal.</summary>
    Metal,

    /// <summary>Any GPU through Vulkan.</summary>
    Vulkan,

    /// <summary>No GPU: the host's CPU.</summary>
    Cpu,
}

/// <summary>
/// Cards users plan for without owning them (<c>-GpuName</c>): GeForce 20/30/40/50 cards with 8 GB or more, RTX A-series,
/// Ada and Blackwell workstation cards, data-centre cards, AMD Radeon RX 6800 to 7900 XTX and Instinct MI210 to
/// MI300X, the RX 5700 XT, Radeon VII, RX 9070 series and Radeon Pro W7900 (an MI250 is two devices of 64 GB to llama.cpp; the entry is one of them), and Apple M1 to M4 in their
/// memory sizes. Discrete cards carry the memory nvidia-smi reports as
/// memory.total where it is known (RTX 4090: 24564 MiB) and their nominal memory otherwise; Apple M-series entries
/// are unified memory, of which macOS lets the GPU use about two thirds (up to 36 GB of RAM) or three quarters
/// (above), its default recommendedMaxWorkingSetSize. Names are matched as people and tools write them: vendor
/// words (NVIDIA, GeForce, AMD, Radeon, Instinct), form factors (SXM4, PCIe, HBM3, unless they name another card: the H100 PCIe) and spacing do not matter, and a
/// name without a memory size means the family's usual one (<see cref="DefaultVariants"/>), else its largest.
/// </summary>
public static class GpuCatalog
{
    private const long MiB = 1024L * 1024;
    private const long GiB = 1024 * MiB;

    private static readonly HashSet<string> IgnoredWords = new(StringComparer.Ordinal)
    {
        "NVIDIA", "GEFORCE", "AMD", "RADEON", "INSTINCT", "SXM", "SXM2", "SXM4", "SXM5", "HBM2", "HBM2E", "HBM3", "HBM3E", "GPU", "GRAPHICS", "TESLA", "WORKSTATION", "EDITION",
    };

    /// <summary>
    /// Form-factor words that name a different card only where the catalogue has one (the H100 PCIe: slower memory
    /// than the SXM part); elsewhere they are ignored like vendor words (an A100-PCIE-40GB is the A100 40GB).
    /// </summary>
    private static readonly HashSet<string> FormFactorWords = new(StringComparer.Ordinal) { "PCIE" };

    /// <summary>The variant a bare family name means where it is not the largest one.</summary>
    private static readonly Dictionary<string, string> DefaultVariants = new(StringComparer.Ordinal)
    {
        ["RTX3080"] = "RTX 3080 10GB",
        ["RTX5060TI"] = "RTX 5060 Ti 16GB",
    };

    /// <summary>All entries, in the order shown by tab completion.</summary>
    public static IReadOnlyList<GpuTarget> Entries { get; } = Build();

    /// <summary>Each entry's name parsed once, with and without its form factor: every lookup compares against these.</summary>
    private static readonly (GpuTarget Entry, string Family, string FullFamily, int? Memory)[] Parsed =
        Entries.Select(e => (e, Parse(e.Name).Family, Parse(e.Name, keepFormFactor: true).Family, Parse(e.Name).Memory)).ToArray();

    private static GpuTarget[] Build()
    {
        // Name, memory (MiB as nvidia-smi reports it where known), bandwidth (GB/s) and dense FP16 matrix TFLOPS
        // (FP16 accumulation), from the vendors' datasheets and architecture whitepapers.
        var cards = new List<GpuTarget>
        {
            Card("RTX 2070", 8192, 448, 59.7), Card("RTX 2080", 8192, 448, 80.5), Card("RTX 2080 Ti", 11264, 616, 107.6),
            Card("RTX 3060 8GB", 8192, 240, 51.2), Card("RTX 3060 12GB", 12288, 360, 51.2), Card("RTX 3060 Ti", 8192, 448, 64.8),
            Card("RTX 3070", 8192, 448, 81.3), Card("RTX 3070 Ti", 8192, 608, 87.0), Card("RTX 3080 10GB", 10240, 760, 119),
            Card("RTX 3080 12GB", 12288, 912, 122), Card("RTX 3080 Ti", 12288, 912, 136), Card("RTX 3090", 24576, 936, 142),
            Card("RTX 3090 Ti", 24564, 1008, 160),
            Card("RTX 4060", 8188, 272, 60.5), Card("RTX 4060 Ti 8GB", 8188, 288, 88.4), Card("RTX 4060 Ti 16GB", 16380, 288, 88.4),
            Card("RTX 4070", 12282, 504, 116.8), Card("RTX 4070 Super", 12282, 504, 141.9), Card("RTX 4070 Ti", 12282, 504, 160.4),
            Card("RTX 4070 Ti Super", 16376, 672, 176.4), Card("RTX 4080", 16376, 717, 194.9), Card("RTX 4080 Super", 16376, 736, 208.9),
            Card("RTX 4090", 24564, 1008, 330.3),
            Card("RTX 5060", 8192, 448, 76.8), Card("RTX 5060 Ti 8GB", 8192, 448, 94.9), Card("RTX 5060 Ti 16GB", 16384, 448, 94.9),
            Card("RTX 5070", 12288, 672, 123.5), Card("RTX 5070 Ti", 16384, 896, 175.8), Card("RTX 5080", 16384, 960, 225.1),
            Card("RTX 5090", 32607, 1792, 419),
            Card("RTX A2000 12GB", 12288, 288, 32.0), Card("RTX A4000", 16384, 448, 76.7), Card("RTX A4500", 20480, 640, 94.6),
            Card("RTX A5000", 24576, 768, 111.1), Card("RTX A5500", 24576, 768, 119.5), Card("RTX A6000", 49140, 768, 154.8),
            Card("RTX 2000 Ada", 16384, 224, 48.0), Card("RTX 4000 Ada", 20480, 360, 81.9), Card("RTX 4500 Ada", 24576, 432, 158.5),
            Card("RTX 5000 Ada", 32768, 576, 261), Card("RTX 6000 Ada", 49140, 960, 364.2),
            Card("RTX PRO 4000 Blackwell", 24576, 672, 156), Card("RTX PRO 4500 Blackwell", 32768, 896, 211),
            Card("RTX PRO 5000 Blackwell", 49152, 1344, 268), Card("RTX PRO 6000 Blackwell", 97887, 1792, 500),
            Card("T4", 15360, 320, 65), Card("V100 16GB", 16384, 900, 125), Card("V100 32GB", 32768, 900, 125),
            Card("A10", 23028, 600, 125), Card("A40", 46068, 696, 149.7), Card("L4", 23034, 300, 121), Card("L40S", 46068, 864, 362),
            Card("A100 40GB", 40960, 1555, 312), Card("A100 80GB", 81920, 2039, 312), Card("H100 80GB", 81559, 3350, 989), Card("H100 PCIe", 81559, 2000, 756),
            Card("H100 NVL 94GB", 95830, 3900, 835), Card("H200 141GB", 143771, 4800, 989), Card("B200 180GB", 184320, 8000, 2250),
            Amd("RX 5700 XT", 8176, 448, 19.5), Amd("Radeon VII", 16368, 1024, 26.9), Amd("RX 6700 XT", 12272, 384, 26.4),
            Amd("RX 6800", 16384, 512, 32.3), Amd("RX 6800 XT", 16384, 512, 41.5), Amd("RX 6900 XT", 16384, 512, 46.1),
            Amd("RX 6950 XT", 16384, 576, 47.3), Amd("RX 7700 XT", 12288, 432, 70.3), Amd("RX 7800 XT", 16384, 624, 74.6),
            Amd("RX 7900 GRE", 16384, 576, 92.0), Amd("RX 7900 XT", 20480, 800, 103), Amd("RX 7900 XTX", 24576, 960, 122.8),
            Amd("RX 9070", 16384, 644.6, 144.5), Amd("RX 9070 XT", 16384, 644.6, 194.7), Amd("Radeon Pro W7900", 49136, 864, 122.6),
            Amd("MI210", 65536, 1638, 181), Amd("MI250", 65536, 1638, 181), Amd("MI300X", 196608, 5300, 1307),
        };
        // Chip, memory sizes (GB), bandwidth (GB/s) and FP16 TFLOPS of the GPU's largest configuration; the M3 Max
        // and M4 Max with 36 GB are the cut-down chips (fewer GPU cores, narrower memory bus).
        var apple = new (string Chip, int[] Sizes, double Bandwidth, double Tflops)[]
        {
            ("M1", [8, 16], 68.25, 2.6), ("M1 Pro", [16, 32], 200, 5.2), ("M1 Max", [32, 64], 400, 10.4), ("M1 Ultra", [64, 128], 800, 20.8),
            ("M2", [8, 16, 24], 100, 3.6), ("M2 Pro", [16, 32], 200, 6.8), ("M2 Max", [32, 64, 96], 400, 13.6), ("M2 Ultra", [64, 128, 192], 800, 27.2),
            ("M3", [8, 16, 24], 100, 4.1), ("M3 Pro", [18, 36], 150, 7.4), ("M3 Max", [36, 48, 64, 96, 128], 400, 16.4), ("M3 Ultra", [96, 256, 512], 819, 32.8),
            ("M4", [16, 24, 32], 120, 4.3), ("M4 Pro", [24, 48, 64], 273, 9.2), ("M4 Max", [36, 48, 64, 128], 546, 18.4),
        };
        foreach (var (chip, sizes, bandwidth, tflops) in apple)
        {
            foreach (var gb in sizes)
            {
                var cutDown = gb == 36 && (chip is "M3 Max" or "M4 Max");
                cards.Add(Apple($"Apple {chip} {gb}GB", gb * GiB, cutDown ? (chip == "M3 Max" ? 300 : 410) : bandwidth, cutDown ? tflops * 0.75 : tflops));
            }
        }

        return cards.ToArray();
    }

    /// <summary>The entry named <paramref name="name"/> as a person or a tool writes it, or null.</summary>
    public static GpuTarget? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var (family, memory) = Parse(name, keepFormFactor: true);
        if (family.Length == 0)
        {
            return null;
        }

        var matches = Parsed.Where(e => e.FullFamily == family).ToArray();
        if (matches.Length == 0)
        {
            // A form factor the catalogue does not tell apart: the card itself, among entries that name none.
            family = Parse(name).Family;
            matches = Parsed.Where(e => e.Family == family && e.FullFamily == family).ToArray();
        }

        if (memory is { } gb)
        {
            return matches.FirstOrDefault(e => e.Memory == gb || (e.Memory is null && Math.Abs((e.Entry.TotalBytes / (double)GiB) - gb) < 1.5)).Entry;
        }

        return matches.Length switch
        {
            0 => null,
            1 => matches[0].Entry,
            _ => DefaultVariants.TryGetValue(family, out var preferred) ? matches.First(e => e.Entry.Name == preferred).Entry : matches.MaxBy(e => e.Entry.TotalBytes).Entry,
        };
    }

    /// <summary>The entries whose names are nearest to <paramref name="name"/>, for an error message.</summary>
    public static IReadOnlyList<string> Nearest(string name, int count = 3)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = Parse(name).Family;
        return Parsed.Select(e => (e.Entry.Name, Distance: Distance(key, e.Family)))
            .OrderBy(e => e.Distance).ThenBy(e => e.Name, StringComparer.Ordinal).Take(count).Select(e => e.Name).ToArray();
    }

    /// <summary>A name's family (its words less vendor and form-factor words, no spacing) and memory size in GB, if it says one.</summary>
    private static (string Family, int? Memory) Parse(string name, bool keepFormFactor = false)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var c in name.ToUpperInvariant() + " ")
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(c);
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }

        int? memory = null;
        var family = new System.Text.StringBuilder();
        foreach (var word in words)
        {
            if (IgnoredWords.Contains(word) || (!keepFormFactor && FormFactorWords.Contains(word)))
            {
                continue;
            }

            var gb = word.EndsWith("GB", StringComparison.Ordinal) ? word[..^2] : word.EndsWith('G') ? word[..^1] : null;
            if (gb is { Length: > 0 } && int.TryParse(gb, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size))
            {
                memory = size;
                continue;
            }

            family.Append(word);
        }

        return (family.ToString(), memory);
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var saved = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = saved;
            }
        }

        return row[b.Length];
    }

    private static GpuTarget Card(string name, long mib, double bandwidth, double tflops) =>
        new() { Name = name, TotalBytes = mib * MiB, FreeBytes = mib * MiB, MemoryBandwidthGBps = bandwidth, TensorTflops = tflops };

    private static GpuTarget Amd(string name, long mib, double bandwidth, double tflops) => Card(name, mib, bandwidth, tflops) with { Backend = GpuBackend.Rocm, Vendor = GpuVendor.Amd };

    private static GpuTarget Apple(string name, long bytes, double bandwidth, double tflops) => new()
    {
        Name = name,
        TotalBytes = bytes,
        FreeBytes = bytes <= 36 * GiB ? bytes * 2 / 3 : bytes * 3 / 4,
        IsUnifiedMemory = true,
        MemoryBandwidthGBps = bandwidth,
        TensorTflops = tflops,
        Backend = GpuBackend.Metal,
        Vendor = GpuVendor.Apple,
    };
}

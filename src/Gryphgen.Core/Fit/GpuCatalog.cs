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
/// Cards users plan for without owning them (<c>-GpuName</c>): GeForce 30/40/50 cards with 8 GB or more, RTX A-series,
/// Ada and Blackwell workstation cards, data-centre cards, AMD Radeon RX 6800 to 7900 XTX and Instinct MI210 to
/// MI300X (an MI250 is two devices of 64 GB to llama.cpp; the entry is one of them), and Apple M1 to M4 in their
/// memory sizes. Discrete cards carry the memory nvidia-smi reports as
/// memory.total where it is known (RTX 4090: 24564 MiB) and their nominal memory otherwise; Apple M-series entries
/// are unified memory, of which macOS lets the GPU use about two thirds (up to 36 GB of RAM) or three quarters
/// (above), its default recommendedMaxWorkingSetSize. Names are matched as people and tools write them: vendor
/// words (NVIDIA, GeForce, AMD, Radeon, Instinct), form factors (SXM4, PCIe, HBM3) and spacing do not matter, and a
/// name without a memory size means the family's usual one (<see cref="DefaultVariants"/>), else its largest.
/// </summary>
public static class GpuCatalog
{
    private const long MiB = 1024L * 1024;
    private const long GiB = 1024 * MiB;

    private static readonly HashSet<string> IgnoredWords = new(StringComparer.Ordinal)
    {
        "NVIDIA", "GEFORCE", "AMD", "RADEON", "INSTINCT", "SXM", "SXM2", "SXM4", "SXM5", "PCIE", "HBM2", "HBM2E", "HBM3", "HBM3E", "GPU", "GRAPHICS", "TESLA", "WORKSTATION", "EDITION",
    };

    /// <summary>The variant a bare family name means where it is not the largest one.</summary>
    private static readonly Dictionary<string, string> DefaultVariants = new(StringComparer.Ordinal)
    {
        ["RTX3080"] = "RTX 3080 10GB",
        ["RTX5060TI"] = "RTX 5060 Ti 16GB",
    };

    /// <summary>All entries, in the order shown by tab completion.</summary>
    public static IReadOnlyList<GpuTarget> Entries { get; } = Build();

    private static GpuTarget[] Build()
    {
        var cards = new List<GpuTarget>
        {
            Card("RTX 3060 8GB", 8192 * MiB), Card("RTX 3060 12GB", 12288 * MiB), Card("RTX 3060 Ti", 8192 * MiB),
            Card("RTX 3070", 8192 * MiB), Card("RTX 3070 Ti", 8192 * MiB), Card("RTX 3080 10GB", 10240 * MiB),
            Card("RTX 3080 12GB", 12288 * MiB), Card("RTX 3080 Ti", 12288 * MiB), Card("RTX 3090", 24576 * MiB),
            Card("RTX 3090 Ti", 24564 * MiB),
            Card("RTX 4060", 8188 * MiB), Card("RTX 4060 Ti 8GB", 8188 * MiB), Card("RTX 4060 Ti 16GB", 16380 * MiB),
            Card("RTX 4070", 12282 * MiB), Card("RTX 4070 Super", 12282 * MiB), Card("RTX 4070 Ti", 12282 * MiB),
            Card("RTX 4070 Ti Super", 16376 * MiB), Card("RTX 4080", 16376 * MiB), Card("RTX 4080 Super", 16376 * MiB),
            Card("RTX 4090", 24564 * MiB),
            Card("RTX 5060", 8192 * MiB), Card("RTX 5060 Ti 8GB", 8192 * MiB), Card("RTX 5060 Ti 16GB", 16384 * MiB),
            Card("RTX 5070", 12288 * MiB), Card("RTX 5070 Ti", 16384 * MiB), Card("RTX 5080", 16384 * MiB),
            Card("RTX 5090", 32607 * MiB),
            Card("RTX A2000 12GB", 12288 * MiB), Card("RTX A4000", 16384 * MiB), Card("RTX A4500", 20480 * MiB),
            Card("RTX A5000", 24576 * MiB), Card("RTX A5500", 24576 * MiB), Card("RTX A6000", 49140 * MiB),
            Card("RTX 2000 Ada", 16384 * MiB), Card("RTX 4000 Ada", 20480 * MiB), Card("RTX 4500 Ada", 24576 * MiB),
            Card("RTX 5000 Ada", 32768 * MiB), Card("RTX 6000 Ada", 49140 * MiB),
            Card("RTX PRO 4000 Blackwell", 24576 * MiB), Card("RTX PRO 4500 Blackwell", 32768 * MiB),
            Card("RTX PRO 5000 Blackwell", 49152 * MiB), Card("RTX PRO 6000 Blackwell", 97887 * MiB),
            Card("T4", 15360 * MiB), Card("V100 16GB", 16384 * MiB), Card("V100 32GB", 32768 * MiB),
            Card("A10", 23028 * MiB), Card("A40", 46068 * MiB), Card("L4", 23034 * MiB), Card("L40S", 46068 * MiB),
            Card("A100 40GB", 40960 * MiB), Card("A100 80GB", 81920 * MiB), Card("H100 80GB", 81559 * MiB),
            Card("H100 NVL 94GB", 95830 * MiB), Card("H200 141GB", 143771 * MiB), Card("B200 180GB", 184320 * MiB),
            Card("RX 6800", 16384 * MiB), Card("RX 6800 XT", 16384 * MiB), Card("RX 6900 XT", 16384 * MiB),
            Card("RX 6950 XT", 16384 * MiB), Card("RX 7700 XT", 12288 * MiB), Card("RX 7800 XT", 16384 * MiB),
            Card("RX 7900 GRE", 16384 * MiB), Card("RX 7900 XT", 20480 * MiB), Card("RX 7900 XTX", 24576 * MiB),
            Card("MI210", 65536 * MiB), Card("MI250", 65536 * MiB), Card("MI300X", 196608 * MiB),
        };
        var apple = new (string Chip, int[] Sizes)[]
        {
            ("M1", [8, 16]), ("M1 Pro", [16, 32]), ("M1 Max", [32, 64]), ("M1 Ultra", [64, 128]),
            ("M2", [8, 16, 24]), ("M2 Pro", [16, 32]), ("M2 Max", [32, 64, 96]), ("M2 Ultra", [64, 128, 192]),
            ("M3", [8, 16, 24]), ("M3 Pro", [18, 36]), ("M3 Max", [36, 48, 64, 96, 128]), ("M3 Ultra", [96, 256, 512]),
            ("M4", [16, 24, 32]), ("M4 Pro", [24, 48, 64]), ("M4 Max", [36, 48, 64, 128]),
        };
        cards.AddRange(apple.SelectMany(a => a.Sizes.Select(gb => Apple($"Apple {a.Chip} {gb}GB", gb * GiB))));
        return cards.ToArray();
    }

    /// <summary>The entry named <paramref name="name"/> as a person or a tool writes it, or null.</summary>
    public static GpuTarget? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var (family, memory) = Parse(name);
        if (family.Length == 0)
        {
            return null;
        }

        var matches = Entries.Where(e => Parse(e.Name).Family == family).ToArray();
        if (memory is { } gb)
        {
            return matches.FirstOrDefault(e => Parse(e.Name).Memory == gb || (Parse(e.Name).Memory is null && Math.Abs((e.TotalBytes / (double)GiB) - gb) < 1.5));
        }

        return matches.Length switch
        {
            0 => null,
            1 => matches[0],
            _ => DefaultVariants.TryGetValue(family, out var preferred) ? matches.First(e => e.Name == preferred) : matches.MaxBy(e => e.TotalBytes),
        };
    }

    /// <summary>The entries whose names are nearest to <paramref name="name"/>, for an error message.</summary>
    public static IReadOnlyList<string> Nearest(string name, int count = 3)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = Parse(name).Family;
        return Entries.Select(e => (e.Name, Distance: Distance(key, Parse(e.Name).Family)))
            .OrderBy(e => e.Distance).ThenBy(e => e.Name, StringComparer.Ordinal).Take(count).Select(e => e.Name).ToArray();
    }

    /// <summary>A name's family (its words less vendor and form-factor words, no spacing) and memory size in GB, if it says one.</summary>
    private static (string Family, int? Memory) Parse(string name)
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
            if (IgnoredWords.Contains(word))
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

    private static GpuTarget Card(string name, long bytes) => new() { Name = name, TotalBytes = bytes, FreeBytes = bytes };

    private static GpuTarget Apple(string name, long bytes) => new()
    {
        Name = name,
        TotalBytes = bytes,
        FreeBytes = bytes <= 36 * GiB ? bytes * 2 / 3 : bytes * 3 / 4,
        IsUnifiedMemory = true,
    };
}

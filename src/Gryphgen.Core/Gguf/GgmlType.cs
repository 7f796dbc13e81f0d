namespace Gryphgen.Core.Gguf;

/// <summary>
/// A tensor's element type: ggml.h's <c>enum ggml_type</c>. Ids 4 and 5 (Q4_2, Q4_3), 31-33 (Q4_0_4_4,
/// Q4_0_4_8, Q4_0_8_8) and 36-38 (IQ4_NL_4_4...) were removed from ggml; files that use them are reported
/// with the removed name and no size. Any other id is kept as a number and reported as unknown.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "ggml's own type names (Q4_K...), as every tool prints them.")]
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
}

/// <summary>
/// Block size (elements per block) and bytes per block of one ggml type, from ggml.c's type_traits
/// (the same figures as gguf-py's GGML_QUANT_SIZES). A tensor of N elements takes N / BlockSize * BytesPerBlock
/// bytes; its first dimension must be a multiple of BlockSize.
/// </summary>
public readonly record struct GgmlTypeInfo(uint Id, string Name, int BlockSize, int BytesPerBlock)
{
    /// <summary>False for ids ggml never had or has removed: their tensors have no known size.</summary>
    public bool IsKnown => BlockSize > 0;

    /// <summary>Average bits per weight, e.g. 4.5 for Q4_K.</summary>
    public double BitsPerWeight => IsKnown ? BytesPerBlock * 8.0 / BlockSize : double.NaN;

    public override string ToString() => Name;
}

/// <summary>The ggml type table: every id the format has used, with its size.</summary>
public static class GgmlTypes
{
    private const int QK = 256; // QK_K, the super-block of the K and IQ quants

    private static readonly GgmlTypeInfo[] Table = BuildTable();

    /// <summary>Every id ggml currently defines, in id order.</summary>
    public static IReadOnlyList<GgmlTypeInfo> Known { get; } = Table.Where(t => t.IsKnown).ToArray();

    /// <summary>The type info for an id; an unknown or removed id gives a name and BlockSize 0, never an exception.</summary>
    public static GgmlTypeInfo Get(uint id) => id < Table.Length ? Table[id] : new GgmlTypeInfo(id, $"unknown({id})", 0, 0);

    public static GgmlTypeInfo Get(GgmlType type) => Get((uint)type);

    /// <summary>
    /// Bytes that <paramref name="elements"/> elements of this type take, or null when the type is unknown or
    /// the count is not a whole number of blocks.
    /// </summary>
    public static long? ByteSize(GgmlType type, long elements)
    {
        var info = Get(type);
        if (!info.IsKnown || elements < 0 || elements % info.BlockSize != 0)
        {
            return null;
        }

        return checked(elements / info.BlockSize * info.BytesPerBlock);
    }

    private static GgmlTypeInfo[] BuildTable()
    {
        var t = new GgmlTypeInfo[43];
        void Set(GgmlType type, int blockSize, int bytesPerBlock) => t[(int)type] = new((uint)type, type.ToString(), blockSize, bytesPerBlock);
        void Removed(uint id, string name) => t[id] = new(id, name + " (removed)", 0, 0);

        Set(GgmlType.F32, 1, 4);
        Set(GgmlType.F16, 1, 2);
        Set(GgmlType.Q4_0, 32, 2 + 16);
        Set(GgmlType.Q4_1, 32, 2 + 2 + 16);
        Removed(4, "Q4_2");
        Removed(5, "Q4_3");
        Set(GgmlType.Q5_0, 32, 2 + 4 + 16);
        Set(GgmlType.Q5_1, 32, 2 + 2 + 4 + 16);
        Set(GgmlType.Q8_0, 32, 2 + 32);
        Set(GgmlType.Q8_1, 32, 4 + 4 + 32);
        Set(GgmlType.Q2_K, QK, 2 + 2 + (QK / 16) + (QK / 4));
        Set(GgmlType.Q3_K, QK, 2 + (QK / 4) + (QK / 8) + 12);
        Set(GgmlType.Q4_K, QK, 2 + 2 + (QK / 2) + 12);
        Set(GgmlType.Q5_K, QK, 2 + 2 + (QK / 2) + (QK / 8) + 12);
        Set(GgmlType.Q6_K, QK, 2 + (QK / 2) + (QK / 4) + (QK / 16));
        Set(GgmlType.Q8_K, QK, 4 + QK + (QK / 8));
        Set(GgmlType.IQ2_XXS, QK, 2 + (QK / 4));
        Set(GgmlType.IQ2_XS, QK, 2 + (QK / 4) + (QK / 32));
        Set(GgmlType.IQ3_XXS, QK, 2 + (QK / 4) + (QK / 8));
        Set(GgmlType.IQ1_S, QK, 2 + (QK / 8) + (QK / 16));
        Set(GgmlType.IQ4_NL, 32, 2 + 16);
        Set(GgmlType.IQ3_S, QK, 2 + (QK / 4) + (QK / 8) + (QK / 32) + 4);
        Set(GgmlType.IQ2_S, QK, 2 + (QK / 4) + (QK / 16));
        Set(GgmlType.IQ4_XS, QK, 2 + 2 + (QK / 2) + (QK / 64));
        Set(GgmlType.I8, 1, 1);
        Set(GgmlType.I16, 1, 2);
        Set(GgmlType.I32, 1, 4);
        Set(GgmlType.I64, 1, 8);
        Set(GgmlType.F64, 1, 8);
        Set(GgmlType.IQ1_M, QK, (QK / 8) + (QK / 16) + (QK / 32));
        Set(GgmlType.BF16, 1, 2);
        Removed(31, "Q4_0_4_4");
        Removed(32, "Q4_0_4_8");
        Removed(33, "Q4_0_8_8");
        Set(GgmlType.TQ1_0, QK, 2 + (4 * 13));
        Set(GgmlType.TQ2_0, QK, 2 + 64);
        Removed(36, "IQ4_NL_4_4");
        Removed(37, "IQ4_NL_4_8");
        Removed(38, "IQ4_NL_8_8");
        Set(GgmlType.MXFP4, 32, 1 + 16);
        Set(GgmlType.NVFP4, 64, 4 + 32);
        Set(GgmlType.Q1_0, 128, 2 + 16);
        Set(GgmlType.Q2_0, 64, 2 + 16);
        return t;
    }
}

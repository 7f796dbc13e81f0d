using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>The element types llama.cpp accepts for its K and V cache (<c>-ctk</c> / <c>-ctv</c>).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "llama.cpp's own cache type names (q8_0...).")]
public enum KvCacheType
{
    F16,
    BF16,
    Q8_0,
    Q4_0,
    Q4_1,
    IQ4_NL,
    Q5_0,
    Q5_1,
}

/// <summary>Sizes of the cache types, taken from ggml's type table (q8_0 is 34 bytes per 32 elements, not 1 byte).</summary>
public static class KvCacheTypes
{
    /// <summary>The ggml type of a cache type.</summary>
    public static GgmlType ToGgml(KvCacheType type) => type switch
    {
        KvCacheType.F16 => GgmlType.F16,
        KvCacheType.BF16 => GgmlType.BF16,
        KvCacheType.Q8_0 => GgmlType.Q8_0,
        KvCacheType.Q4_0 => GgmlType.Q4_0,
        KvCacheType.Q4_1 => GgmlType.Q4_1,
        KvCacheType.IQ4_NL => GgmlType.IQ4_NL,
        KvCacheType.Q5_0 => GgmlType.Q5_0,
        KvCacheType.Q5_1 => GgmlType.Q5_1,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Bytes of <paramref name="elements"/> elements (a whole number of blocks) of the cache type.</summary>
    public static long ByteSize(KvCacheType type, long elements)
    {
        var info = GgmlTypes.Get(ToGgml(type));
        return (elements + info.BlockSize - 1) / info.BlockSize * info.BytesPerBlock;
    }

    /// <summary>The lower-case name llama.cpp's command line takes (<c>q8_0</c>, <c>iq4_nl</c>).</summary>
    public static string CommandLineName(KvCacheType type) => type.ToString().ToLowerInvariant();
}

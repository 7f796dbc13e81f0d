using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>
/// The kind of kernels a model's weights run through, which sets how much of a device's bandwidth and tensor
/// throughput llama.cpp reaches: <see cref="SpeedCalibration"/> holds one fraction per family and backend.
/// </summary>
public enum QuantFamily
{
    /// <summary>F16, BF16, F32: unquantised.</summary>
    Unquantised,

    /// <summary>Q8_0.</summary>
    Q8,

    /// <summary>The legacy block types Q4_0, Q4_1, Q5_0, Q5_1.</summary>
    Legacy,

    /// <summary>The k-quants Q2_K to Q6_K (the _K_S/_K_M/_K_L mixes).</summary>
    KQuant,

    /// <summary>The i-quants (IQ1 to IQ4) and the ternary types.</summary>
    IQuant,

    /// <summary>MXFP4 and NVFP4 (gpt-oss).</summary>
    Fp4,
}

/// <summary>Which <see cref="QuantFamily"/> a tensor type belongs to.</summary>
public static class QuantFamilies
{
    /// <summary>The family of <paramref name="type"/>.</summary>
    public static QuantFamily Of(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.F64 => QuantFamily.Unquantised,
        GgmlType.Q8_0 or GgmlType.Q8_1 or GgmlType.Q8_K => QuantFamily.Q8,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 => QuantFamily.Legacy,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => QuantFamily.KQuant,
        GgmlType.MXFP4 or GgmlType.NVFP4 => QuantFamily.Fp4,
        _ => QuantFamily.IQuant,
    };
}

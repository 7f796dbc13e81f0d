namespace Gryphgen.Core.Gguf;

/// <summary>
/// Names of <c>general.file_type</c> values (llama.h's <c>enum llama_ftype</c>): the quantisation mix a file was
/// made with, e.g. 15 = Q4_K_M. A file type names the mix, not every tensor's type: a Q4_K_M file holds Q4_K
/// and Q6_K tensors.
/// </summary>
public static class GgufFileType
{
    private static readonly string?[] Names =
    [
        "F32", "F16", "Q4_0", "Q4_1", "Q4_1_SOME_F16", "Q4_2", "Q4_3", "Q8_0", "Q5_0", "Q5_1",
        "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS",
        "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M",
        "IQ4_XS", "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "MXFP4_MOE", "NVFP4",
        "Q1_0", "Q2_0",
    ];

    /// <summary>The name of a file type id, e.g. "Q4_K_M"; "unknown(N)" for an id llama.cpp does not define.</summary>
    public static string GetName(long id) => id >= 0 && id < Names.Length && Names[id] is { } name ? name : $"unknown({id})";

    /// <summary>The id of a name such as "Q4_K_M" (case-insensitive), or null.</summary>
    public static int? GetId(string name)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return null;
    }
}

namespace Gryphgen.Core.Gguf;

/// <summary>
/// The hyper-parameters of a llama-architecture model, enough for <see cref="GgufModelBuilder"/> to write a GGUF
/// file with the tensor table llama.cpp expects (token_embd, blk.N.attn_*, blk.N.ffn_* or ffn_*_exps, output).
/// The presets mirror real models so later estimates can be checked against known figures.
/// </summary>
public sealed record GgufModelShape
{
    public string Architecture { get; init; } = "llama";

    /// <summary>Written as general.name.</summary>
    public string Name { get; init; } = "Gryphgen test model";

    public int BlockCount { get; init; } = 2;

    public int EmbeddingLength { get; init; } = 256;

    public int FeedForwardLength { get; init; } = 512;

    public int HeadCount { get; init; } = 4;

    /// <summary>KV heads of every layer (grouped-query attention when below HeadCount).</summary>
    public int HeadCountKv { get; init; } = 4;

    /// <summary>When set, KV heads per layer, written as an int32 array; overrides HeadCountKv.</summary>
    public IReadOnlyList<int>? HeadCountKvPerLayer { get; init; }

    public int ContextLength { get; init; } = 4096;

    public int VocabularySize { get; init; } = 512;

    /// <summary>Experts per MoE layer; 0 for a dense model.</summary>
    public int ExpertCount { get; init; }

    public int ExpertUsedCount { get; init; }

    /// <summary>Written as &lt;arch&gt;.attention.sliding_window when set.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>A general.file_type name: Q4_K_M gets llama.cpp's mix (Q4_K, Q6_K for attn_v/ffn_down of some layers and output); others one type.</summary>
    public string FileType { get; init; } = "Q4_K_M";

    public float RopeFreqBase { get; init; } = 10000f;

    public float RmsNormEpsilon { get; init; } = 1e-5f;

    /// <summary>Size of one attention head: EmbeddingLength / HeadCount.</summary>
    public int HeadDimension => EmbeddingLength / HeadCount;

    public int KvHeadsOf(int layer) => HeadCountKvPerLayer is { } perLayer ? perLayer[layer] : HeadCountKv;

    /// <summary>Meta-Llama-3-8B: 32 layers, 4096 wide, 32 heads, 8 KV heads, 128 256 tokens; 8 030 261 248 parameters.</summary>
    public static GgufModelShape DenseLlama8B { get; } = new()
    {
        Name = "Meta Llama 3 8B (shape only)",
        BlockCount = 32,
        EmbeddingLength = 4096,
        FeedForwardLength = 14336,
        HeadCount = 32,
        HeadCountKv = 8,
        ContextLength = 8192,
        VocabularySize = 128256,
        RopeFreqBase = 500000f,
    };

    /// <summary>A small Mixtral-style MoE: 8 experts, 2 used per token.</summary>
    public static GgufModelShape SmallMoe { get; } = new()
    {
        Name = "Small MoE (shape only)",
        BlockCount = 8,
        EmbeddingLength = 1024,
        FeedForwardLength = 2816,
        HeadCount = 16,
        HeadCountKv = 4,
        ContextLength = 32768,
        VocabularySize = 32000,
        ExpertCount = 8,
        ExpertUsedCount = 2,
    };

    /// <summary>Mistral-7B-v0.1: a sliding attention window of 4096 tokens.</summary>
    public static GgufModelShape SlidingWindow7B { get; } = new()
    {
        Name = "Mistral 7B v0.1 (shape only)",
        BlockCount = 32,
        EmbeddingLength = 4096,
        FeedForwardLength = 14336,
        HeadCount = 32,
        HeadCountKv = 8,
        ContextLength = 32768,
        VocabularySize = 32000,
        SlidingWindow = 4096,
    };

    /// <summary>
    /// A small model whose KV head count differs per layer, as DeciLM / Nemotron-NAS have it. It uses the "deci"
    /// architecture because llama.cpp's "llama" architecture sizes every layer's attn_k/attn_v by layer 0's head
    /// count and refuses such a file; "deci" reads the per-layer array and loads it.
    /// </summary>
    public static GgufModelShape PerLayerKvHeads { get; } = new()
    {
        Architecture = "deci",
        Name = "Per-layer KV heads (shape only)",
        BlockCount = 4,
        EmbeddingLength = 512,
        FeedForwardLength = 1536,
        HeadCount = 8,
        HeadCountKvPerLayer = [8, 4, 2, 1],
        VocabularySize = 1024,
    };
}

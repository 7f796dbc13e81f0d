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

    /// <summary>K (and Q) width of one head (key_length); null = EmbeddingLength / HeadCount.</summary>
    public int? KeyLength { get; init; }

    /// <summary>V width of one head (value_length); null = the key length.</summary>
    public int? ValueLength { get; init; }

    /// <summary>Rotary dimensions (rope.dimension_count); null = the key length.</summary>
    public int? RopeDimensions { get; init; }

    /// <summary>Feed-forward width of one routed expert (expert_feed_forward_length); 0 = FeedForwardLength.</summary>
    public int ExpertFeedForwardLength { get; init; }

    /// <summary>Shared experts per MoE layer (expert_shared_count).</summary>
    public int ExpertSharedCount { get; init; }

    /// <summary>Feed-forward width of the shared expert (expert_shared_feed_forward_length); 0 = the expert width.</summary>
    public int SharedExpertFeedForwardLength { get; init; }

    /// <summary>Leading blocks with a dense FFN before the MoE blocks (leading_dense_block_count).</summary>
    public int LeadingDenseBlockCount { get; init; }

    /// <summary>No output.weight: llama.cpp uses token_embd for the logits too (tied embeddings).</summary>
    public bool TiedOutput { get; init; }

    /// <summary>Per-head RMS norms on Q and K (attn_q_norm, attn_k_norm), as Qwen3 and Gemma 3 have them.</summary>
    public bool QkNorm { get; init; }

    /// <summary>Trailing NextN / multi-token-prediction blocks counted in BlockCount (nextn_predict_layers).</summary>
    public int NextNLayerCount { get; init; }

    /// <summary>Qwen3-Next / Qwen3.5: every this-many-th block is full attention, the others gated delta-net (full_attention_interval).</summary>
    public int FullAttentionInterval { get; init; }

    /// <summary>When set, the feed-forward width per layer, written as an int32 array (0 = no FFN in that block).</summary>
    public IReadOnlyList<int>? FeedForwardLengthPerLayer { get; init; }

    /// <summary>The recurrent (SSM / linear-attention / short-convolution) sizes of hybrid and recurrent models.</summary>
    public GgufSsmShape? Ssm { get; init; }

    /// <summary>Multi-head latent attention sizes (deepseek2); null for ordinary attention.</summary>
    public GgufMlaShape? Mla { get; init; }

    /// <summary>Per-layer sliding-window flags (sliding_window_pattern as bools), as Gemma 4 writes them.</summary>
    public IReadOnlyList<bool>? SlidingWindowPattern { get; init; }

    /// <summary>K and V head widths of the sliding-window layers (key_length_swa, value_length_swa) where they differ.</summary>
    public int? KeyLengthSwa { get; init; }

    /// <inheritdoc cref="KeyLengthSwa"/>
    public int? ValueLengthSwa { get; init; }

    /// <summary>Extra metadata an architecture needs (uint, float, bool, string or arrays of them), written as given.</summary>
    public IReadOnlyDictionary<string, object>? ExtraMetadata { get; init; }

    /// <summary>Size of one attention head: the key length.</summary>
    public int HeadDimension => KeyLength ?? EmbeddingLength / HeadCount;

    /// <summary>V width of one attention head.</summary>
    public int ValueDimension => ValueLength ?? HeadDimension;

    /// <summary>Feed-forward width of one routed expert.</summary>
    public int ExpertWidth => ExpertFeedForwardLength > 0 ? ExpertFeedForwardLength : FeedForwardLength;

    public int KvHeadsOf(int layer) => HeadCountKvPerLayer is { } perLayer ? perLayer[layer] : HeadCountKv;

    /// <summary>Feed-forward width of <paramref name="layer"/>.</summary>
    public int FeedForwardOf(int layer) => FeedForwardLengthPerLayer is { } perLayer ? perLayer[layer] : FeedForwardLength;

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

/// <summary>
/// Sizes of a recurrent block as llama.cpp's ssm.* keys name them: Mamba-2 (granitehybrid, nemotron_h), gated
/// delta-net (qwen3next, qwen35: state = key head width, groups = key heads, time-step rank = value heads) and
/// LFM2's short convolution (only <see cref="ConvKernel"/>, written as shortconv.l_cache).
/// </summary>
public sealed record GgufSsmShape
{
    /// <summary>ssm.conv_kernel (d_conv), or LFM2's shortconv.l_cache.</summary>
    public int ConvKernel { get; init; } = 4;

    /// <summary>ssm.state_size (d_state).</summary>
    public int StateSize { get; init; }

    /// <summary>ssm.group_count (n_group).</summary>
    public int GroupCount { get; init; }

    /// <summary>ssm.time_step_rank (heads of the state).</summary>
    public int TimeStepRank { get; init; }

    /// <summary>ssm.inner_size (d_inner).</summary>
    public int InnerSize { get; init; }
}

/// <summary>Multi-head latent attention sizes of deepseek2 (DeepSeek V2/V3, Kimi K2).</summary>
public sealed record GgufMlaShape
{
    /// <summary>attention.q_lora_rank (0 = no Q compression).</summary>
    public int QLoraRank { get; init; }

    /// <summary>attention.kv_lora_rank: width of the cached latent.</summary>
    public int KvLoraRank { get; init; }

    /// <summary>Rotary part of each K head (qk_rope_head_dim), cached beside the latent.</summary>
    public int RopeHeadDimension { get; init; }

    /// <summary>Non-rotary part of each Q/K head (qk_nope_head_dim).</summary>
    public int NopeHeadDimension { get; init; }

    /// <summary>V width of each head (v_head_dim).</summary>
    public int ValueHeadDimension { get; init; }
}

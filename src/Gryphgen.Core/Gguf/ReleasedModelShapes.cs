namespace Gryphgen.Core.Gguf;

/// <summary>
/// Shapes of released models, taken from their published configurations (Hugging Face config.json) as
/// llama.cpp's converter maps them to GGUF keys. Written by <see cref="GgufModelBuilder"/> as sparse files, they
/// let the estimate be checked against llama.cpp on models nobody here has downloaded. Multi-token-prediction
/// blocks that the converter can add (Qwen3.5) are left out, as with <c>--no-mtp</c>; GLM-4.5-Air keeps its
/// NextN block, which llama.cpp skips.
/// </summary>
public static class ReleasedModelShapes
{
    private static readonly int[] QwenRopeSections = [11, 11, 10, 0];

    /// <summary>Qwen3-Next-80B-A3B: 48 layers, a full-attention layer every 4th, gated delta-net otherwise; 512 experts, 10 used, a shared expert.</summary>
    public static GgufModelShape Qwen3Next80BA3B { get; } = new()
    {
        Architecture = "qwen3next",
        Name = "Qwen3-Next-80B-A3B (shape only)",
        BlockCount = 48,
        EmbeddingLength = 2048,
        FeedForwardLength = 5120,
        HeadCount = 16,
        HeadCountKv = 2,
        KeyLength = 256,
        ValueLength = 256,
        RopeDimensions = 64,
        ContextLength = 262144,
        VocabularySize = 151936,
        ExpertCount = 512,
        ExpertUsedCount = 10,
        ExpertFeedForwardLength = 512,
        SharedExpertFeedForwardLength = 512,
        QkNorm = true,
        FullAttentionInterval = 4,
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 128, GroupCount = 16, TimeStepRank = 32, InnerSize = 4096 },
        RopeFreqBase = 10_000_000f,
        RmsNormEpsilon = 1e-6f,
    };

    /// <summary>Qwen3.5-27B: 64 layers (16 full attention), dense FFN 17408.</summary>
    public static GgufModelShape Qwen35Dense27B { get; } = new()
    {
        Architecture = "qwen35",
        Name = "Qwen3.5-27B (shape only)",
        BlockCount = 64,
        EmbeddingLength = 5120,
        FeedForwardLength = 17408,
        HeadCount = 24,
        HeadCountKv = 4,
        KeyLength = 256,
        ValueLength = 256,
        RopeDimensions = 64,
        ContextLength = 262144,
        VocabularySize = 248320,
        QkNorm = true,
        FullAttentionInterval = 4,
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 128, GroupCount = 16, TimeStepRank = 48, InnerSize = 6144 },
        RopeFreqBase = 10_000_000f,
        RmsNormEpsilon = 1e-6f,
        ExtraMetadata = new Dictionary<string, object> { ["{arch}.rope.dimension_sections"] = QwenRopeSections },
    };

    /// <summary>Qwen3.5-35B-A3B: 40 layers (10 full attention), 256 experts, 8 used, a shared expert.</summary>
    public static GgufModelShape Qwen35Moe35BA3B { get; } = new()
    {
        Architecture = "qwen35moe",
        Name = "Qwen3.5-35B-A3B (shape only)",
        BlockCount = 40,
        EmbeddingLength = 2048,
        FeedForwardLength = 512,
        HeadCount = 16,
        HeadCountKv = 2,
        KeyLength = 256,
        ValueLength = 256,
        RopeDimensions = 64,
        ContextLength = 262144,
        VocabularySize = 248320,
        ExpertCount = 256,
        ExpertUsedCount = 8,
        ExpertFeedForwardLength = 512,
        SharedExpertFeedForwardLength = 512,
        QkNorm = true,
        FullAttentionInterval = 4,
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 128, GroupCount = 16, TimeStepRank = 32, InnerSize = 4096 },
        RopeFreqBase = 10_000_000f,
        RmsNormEpsilon = 1e-6f,
        ExtraMetadata = new Dictionary<string, object> { ["{arch}.rope.dimension_sections"] = QwenRopeSections },
    };

    /// <summary>DeepSeek-V3 (and R1): 61 layers, MLA (kv_lora_rank 512, rope 64), 256 experts of 2048, 8 used, a shared expert, 3 leading dense layers.</summary>
    public static GgufModelShape DeepSeekV3 { get; } = new()
    {
        Architecture = "deepseek2",
        Name = "DeepSeek-V3 (shape only)",
        BlockCount = 61,
        EmbeddingLength = 7168,
        FeedForwardLength = 18432,
        HeadCount = 128,
        HeadCountKv = 1,
        KeyLength = 576,
        ValueLength = 512,
        ContextLength = 163840,
        VocabularySize = 129280,
        ExpertCount = 256,
        ExpertUsedCount = 8,
        ExpertFeedForwardLength = 2048,
        ExpertSharedCount = 1,
        LeadingDenseBlockCount = 3,
        Mla = new GgufMlaShape { QLoraRank = 1536, KvLoraRank = 512, RopeHeadDimension = 64, NopeHeadDimension = 128, ValueHeadDimension = 128 },
        RmsNormEpsilon = 1e-6f,
        ExtraMetadata = new Dictionary<string, object>
        {
            ["{arch}.expert_weights_scale"] = 2.5f,
            ["{arch}.expert_weights_norm"] = true,
            ["{arch}.expert_gating_func"] = 2u,
        },
    };

    /// <summary>GLM-4.5-Air: 46 layers plus one NextN block (block 46), 128 experts of 1408, 8 used, a shared expert, one leading dense layer.</summary>
    public static GgufModelShape Glm45Air { get; } = new()
    {
        Architecture = "glm4moe",
        Name = "GLM-4.5-Air (shape only)",
        BlockCount = 47,
        NextNLayerCount = 1,
        EmbeddingLength = 4096,
        FeedForwardLength = 10944,
        HeadCount = 96,
        HeadCountKv = 8,
        KeyLength = 128,
        ValueLength = 128,
        RopeDimensions = 64,
        ContextLength = 131072,
        VocabularySize = 151552,
        ExpertCount = 128,
        ExpertUsedCount = 8,
        ExpertFeedForwardLength = 1408,
        ExpertSharedCount = 1,
        LeadingDenseBlockCount = 1,
        ExtraMetadata = new Dictionary<string, object>
        {
            ["{arch}.expert_weights_norm"] = true,
            ["{arch}.expert_weights_scale"] = 1.0f,
            ["{arch}.expert_gating_func"] = 2u,
        },
    };

    /// <summary>
    /// Nemotron-H-8B-Base-8K: 52 layers, 24 Mamba-2, 4 attention (7, 18, 29, 40), 24 MLP-only (pattern
    /// M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-); no rope, so the converter writes a 2^20 context.
    /// </summary>
    public static GgufModelShape NemotronH8B { get; } = NemotronFromPattern("M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-");

    /// <summary>Granite-4.0-H-Tiny: 40 layers, attention at 5, 15, 25, 35, Mamba-2 elsewhere; 64 experts of 512, 6 used, a shared expert of 1024; tied embeddings.</summary>
    public static GgufModelShape Granite4HTiny { get; } = new()
    {
        Architecture = "granitehybrid",
        Name = "Granite-4.0-H-Tiny (shape only)",
        BlockCount = 40,
        EmbeddingLength = 1536,
        FeedForwardLength = 512,
        HeadCount = 12,
        HeadCountKvPerLayer = Enumerable.Range(0, 40).Select(i => i % 10 == 5 ? 4 : 0).ToArray(),
        ContextLength = 1048576,
        VocabularySize = 100352,
        ExpertCount = 64,
        ExpertUsedCount = 6,
        SharedExpertFeedForwardLength = 1024,
        TiedOutput = true,
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 128, GroupCount = 1, TimeStepRank = 48, InnerSize = 3072 },
    };

    /// <summary>LFM2-8B-A1B: 24 layers, attention at 2, 6, 10, 14, 18, 21, short convolution (L_cache 3) elsewhere; 32 experts of 1792, 4 used, 2 leading dense layers.</summary>
    public static GgufModelShape Lfm2Moe8BA1B { get; } = new()
    {
        Architecture = "lfm2moe",
        Name = "LFM2-8B-A1B (shape only)",
        BlockCount = 24,
        EmbeddingLength = 2048,
        FeedForwardLength = 7168,
        HeadCount = 32,
        HeadCountKvPerLayer = Enumerable.Range(0, 24).Select(i => i is 2 or 6 or 10 or 14 or 18 or 21 ? 8 : 0).ToArray(),
        ContextLength = 128000,
        VocabularySize = 65536,
        ExpertCount = 32,
        ExpertUsedCount = 4,
        ExpertFeedForwardLength = 1792,
        LeadingDenseBlockCount = 2,
        TiedOutput = true,
        QkNorm = true,
        Ssm = new GgufSsmShape { ConvKernel = 3 },
        RopeFreqBase = 1_000_000f,
        ExtraMetadata = new Dictionary<string, object> { ["{arch}.expert_gating_func"] = 2u },
    };

    /// <summary>
    /// LFM2-2.6B, the dense LFM2: 30 layers, attention at 2, 5, 9, 13, 17, 21, 24, 27 (32 heads of 64, 8 KV heads,
    /// Q/K norms), short convolution (L_cache 3) elsewhere; FFN 10752; tied embeddings. From the config.json
    /// LiquidAI publishes with the model's own architecture (huggingface.co/LiquidAI/LFM2-2.6B-Transcript-ONNX:
    /// hidden_size 2048, num_hidden_layers 30, num_attention_heads 32, num_key_value_heads 8, layer_types,
    /// conv_L_cache 3, block_ff_dim 10752 with block_auto_adjust_ff_dim false, max_position_embeddings 128000) and
    /// the model card of LiquidAI/LFM2-2.6B (30 layers, 22 conv + 8 attention, vocabulary 65536,
    /// 2,569,272,320 parameters, which these sizes reproduce exactly with the output tied to the embedding).
    /// llama.cpp's converter (LFM2Model) writes block_ff_dim unchanged when auto-adjust is off, head_count_kv 0 for
    /// each conv layer and conv_L_cache as shortconv.l_cache; llama.cpp names an n_ff of 10752 "2.6B".
    /// </summary>
    public static GgufModelShape Lfm2Dense26B { get; } = new()
    {
        Architecture = "lfm2",
        Name = "LFM2-2.6B (shape only)",
        BlockCount = 30,
        EmbeddingLength = 2048,
        FeedForwardLength = 10752,
        HeadCount = 32,
        HeadCountKvPerLayer = Enumerable.Range(0, 30).Select(i => i is 2 or 5 or 9 or 13 or 17 or 21 or 24 or 27 ? 8 : 0).ToArray(),
        ContextLength = 128000,
        VocabularySize = 65536,
        TiedOutput = true,
        QkNorm = true,
        Ssm = new GgufSsmShape { ConvKernel = 3 },
        RopeFreqBase = 1_000_000f,
    };

    private static GgufModelShape NemotronFromPattern(string pattern) => new()
    {
        Architecture = "nemotron_h",
        Name = "Nemotron-H-8B (shape only)",
        BlockCount = pattern.Length,
        EmbeddingLength = 4096,
        FeedForwardLength = 21504,
        FeedForwardLengthPerLayer = pattern.Select(c => c == '-' ? 21504 : 0).ToArray(),
        HeadCount = 32,
        HeadCountKvPerLayer = pattern.Select(c => c == '*' ? 8 : 0).ToArray(),
        KeyLength = 128,
        ValueLength = 128,
        ContextLength = 1048576,
        VocabularySize = 131072,
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 128, GroupCount = 8, TimeStepRank = 128, InnerSize = 8192 },
    };

    /// <summary>
    /// Gemma-4-31B: 60 layers, five sliding-window layers (1024 tokens, 16 KV heads of 256) to one full-attention
    /// layer (4 KV heads of 512, V = K), 262144 trained tokens, tied embeddings.
    /// </summary>
    public static GgufModelShape Gemma4Dense31B { get; } = new()
    {
        Architecture = "gemma4",
        Name = "Gemma-4-31B (shape only)",
        BlockCount = 60,
        EmbeddingLength = 5376,
        FeedForwardLength = 21504,
        HeadCount = 32,
        HeadCountKvPerLayer = Enumerable.Range(0, 60).Select(i => i % 6 == 5 ? 4 : 16).ToArray(),
        KeyLength = 512,
        ValueLength = 512,
        KeyLengthSwa = 256,
        ValueLengthSwa = 256,
        RopeDimensions = 512,
        SlidingWindow = 1024,
        SlidingWindowPattern = Enumerable.Range(0, 60).Select(i => i % 6 != 5).ToArray(),
        ContextLength = 262144,
        VocabularySize = 262144,
        TiedOutput = true,
        RopeFreqBase = 1_000_000f,
        RmsNormEpsilon = 1e-6f,
        ExtraMetadata = new Dictionary<string, object>
        {
            ["{arch}.embedding_length_per_layer_input"] = 0u,
            ["{arch}.rope.dimension_count_swa"] = 256u,
            ["{arch}.final_logit_softcapping"] = 30f,
        },
    };

    /// <summary>Llama-3.1-8B: Llama 3's shape with a 131072-token trained context.</summary>
    public static GgufModelShape Llama31Dense8B { get; } = GgufModelShape.DenseLlama8B with
    {
        Name = "Llama-3.1-8B (shape only)",
        ContextLength = 131072,
    };

    /// <summary>Qwen3-8B: 36 layers, 32 heads of 128, 8 KV heads, Q/K norms.</summary>
    public static GgufModelShape Qwen3Dense8B { get; } = new()
    {
        Architecture = "qwen3",
        Name = "Qwen3-8B (shape only)",
        BlockCount = 36,
        EmbeddingLength = 4096,
        FeedForwardLength = 12288,
        HeadCount = 32,
        HeadCountKv = 8,
        KeyLength = 128,
        ValueLength = 128,
        ContextLength = 40960,
        VocabularySize = 151936,
        QkNorm = true,
        RopeFreqBase = 1_000_000f,
        RmsNormEpsilon = 1e-6f,
    };

    /// <summary>Qwen3-30B-A3B: 48 layers, 128 experts of 768, 8 used.</summary>
    public static GgufModelShape Qwen3Moe30BA3B { get; } = new()
    {
        Architecture = "qwen3moe",
        Name = "Qwen3-30B-A3B (shape only)",
        BlockCount = 48,
        EmbeddingLength = 2048,
        FeedForwardLength = 6144,
        HeadCount = 32,
        HeadCountKv = 4,
        KeyLength = 128,
        ValueLength = 128,
        ContextLength = 40960,
        VocabularySize = 151936,
        ExpertCount = 128,
        ExpertUsedCount = 8,
        ExpertFeedForwardLength = 768,
        QkNorm = true,
        RopeFreqBase = 1_000_000f,
        RmsNormEpsilon = 1e-6f,
    };

    /// <summary>Gemma-3-12B: 48 layers, five sliding-window layers (1024 tokens) to one global, 16 heads of 256, 8 KV heads, tied embeddings.</summary>
    public static GgufModelShape Gemma3Dense12B { get; } = new()
    {
        Architecture = "gemma3",
        Name = "Gemma-3-12B (shape only)",
        BlockCount = 48,
        EmbeddingLength = 3840,
        FeedForwardLength = 15360,
        HeadCount = 16,
        HeadCountKv = 8,
        KeyLength = 256,
        ValueLength = 256,
        SlidingWindow = 1024,
        ContextLength = 131072,
        VocabularySize = 262208,
        QkNorm = true,
        TiedOutput = true,
        RopeFreqBase = 1_000_000f,
        RmsNormEpsilon = 1e-6f,
    };

    /// <summary>gpt-oss-20b: 24 layers alternating a 128-token window and full attention, 64 heads of 64, 8 KV heads, sinks, 32 experts of 2880 (MXFP4), 4 used.</summary>
    public static GgufModelShape GptOss20B { get; } = new()
    {
        Architecture = "gpt-oss",
        Name = "gpt-oss-20b (shape only)",
        BlockCount = 24,
        EmbeddingLength = 2880,
        FeedForwardLength = 2880,
        HeadCount = 64,
        HeadCountKv = 8,
        KeyLength = 64,
        ValueLength = 64,
        SlidingWindow = 128,
        ContextLength = 131072,
        VocabularySize = 201088,
        ExpertCount = 32,
        ExpertUsedCount = 4,
        ExpertFeedForwardLength = 2880,
        FileType = "MXFP4_MOE",
        RopeFreqBase = 150000f,
    };

    /// <summary>Mistral-Small-3.2-24B: 40 layers, 32 heads of 128, 8 KV heads, FFN 32768; "mistral3" as today's converter writes it (older ones wrote "llama").</summary>
    public static GgufModelShape MistralSmall32 { get; } = new()
    {
        Architecture = "mistral3",
        Name = "Mistral-Small-3.2-24B (shape only)",
        BlockCount = 40,
        EmbeddingLength = 5120,
        FeedForwardLength = 32768,
        HeadCount = 32,
        HeadCountKv = 8,
        KeyLength = 128,
        ValueLength = 128,
        ContextLength = 131072,
        VocabularySize = 131072,
        RopeFreqBase = 1_000_000_000f,
    };

    /// <summary>
    /// Llama-4-Scout-17B-16E: 48 layers, MoE in every layer (16 experts of 8192, 1 used, a shared expert of 8192),
    /// 40 heads of 128, 8 KV heads, chunked attention (8192 tokens) on three layers in four.
    /// </summary>
    public static GgufModelShape Llama4Scout { get; } = new()
    {
        Architecture = "llama4",
        Name = "Llama-4-Scout-17B-16E (shape only)",
        BlockCount = 48,
        EmbeddingLength = 5120,
        FeedForwardLength = 16384,
        HeadCount = 40,
        HeadCountKv = 8,
        KeyLength = 128,
        ValueLength = 128,
        ContextLength = 262144,
        VocabularySize = 202048,
        ExpertCount = 16,
        ExpertUsedCount = 1,
        ExpertFeedForwardLength = 8192,
        SharedExpertFeedForwardLength = 8192,
        RopeFreqBase = 500000f,
        ExtraMetadata = new Dictionary<string, object>
        {
            ["{arch}.interleave_moe_layer_step"] = 1u,
            ["{arch}.attention.chunk_size"] = 8192u,
        },
    };

    /// <summary>MiniMax-M2: 62 layers, 48 heads of 128, 8 KV heads, Q/K norms over the whole projection, 256 experts of 1536, 8 used.</summary>
    public static GgufModelShape MiniMaxM2 { get; } = new()
    {
        Architecture = "minimax-m2",
        Name = "MiniMax-M2 (shape only)",
        BlockCount = 62,
        EmbeddingLength = 3072,
        FeedForwardLength = 1536,
        HeadCount = 48,
        HeadCountKv = 8,
        KeyLength = 128,
        ValueLength = 128,
        RopeDimensions = 64,
        ContextLength = 196608,
        VocabularySize = 200064,
        ExpertCount = 256,
        ExpertUsedCount = 8,
        ExpertFeedForwardLength = 1536,
        QkNorm = true,
        RopeFreqBase = 5_000_000f,
        ExtraMetadata = new Dictionary<string, object> { ["{arch}.expert_gating_func"] = 2u },
    };

    /// <summary>Qwen3-0.6B, a common draft model for speculative decoding: 28 layers, 16 heads of 128, 8 KV heads, tied embeddings.</summary>
    public static GgufModelShape Qwen3Dense06B { get; } = new()
    {
        Architecture = "qwen3",
        Name = "Qwen3-0.6B (shape only)",
        BlockCount = 28,
        EmbeddingLength = 1024,
        FeedForwardLength = 3072,
        HeadCount = 16,
        HeadCountKv = 8,
        KeyLength = 128,
        ValueLength = 128,
        ContextLength = 40960,
        VocabularySize = 151936,
        QkNorm = true,
        TiedOutput = true,
        FileType = "Q8_0",
        RopeFreqBase = 1_000_000f,
        RmsNormEpsilon = 1e-6f,
    };
}

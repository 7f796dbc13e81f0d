namespace Gryphgen.Core.Fit;

/// <summary>
/// The llama.cpp settings an estimate is made for, named after llama-server's options. Every size here is a count
/// of tokens or sequences, not of bytes.
/// </summary>
public sealed record LlamaCppSettings
{
    /// <summary>Mebibyte, for the defaults below.</summary>
    public const long MiB = 1024L * 1024;

    /// <summary>Requested context in tokens (<c>-c</c>), before llama.cpp pads it to <see cref="ContextPadding"/>.</summary>
    public int ContextLength { get; init; } = 4096;

    /// <summary>Logical batch in tokens (<c>-b</c>, llama.cpp's default 2048); llama.cpp clamps it to the context.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Physical (micro) batch in tokens (<c>-ub</c>, default 512): the compute buffer is sized for it.</summary>
    public int UBatchSize { get; init; } = 512;

    /// <summary>Element type of the K cache (<c>-ctk</c>).</summary>
    public KvCacheType CacheTypeK { get; init; } = KvCacheType.F16;

    /// <summary>Element type of the V cache (<c>-ctv</c>); a quantised V cache needs flash attention in llama.cpp.</summary>
    public KvCacheType CacheTypeV { get; init; } = KvCacheType.F16;

    /// <summary>Flash attention (<c>-fa on</c>): no KQ matrix in the compute buffer, an untransposed V cache.</summary>
    public bool FlashAttention { get; init; }

    /// <summary>Parallel sequences (<c>-np</c>, n_seq_max): sizes the recurrent state, the SWA cache and the output buffer.</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>Whether embeddings are extracted too (<c>--embeddings</c>): adds n_embd floats per output to the output buffer.</summary>
    public bool Embeddings { get; init; }

    /// <summary>Keep MoE expert tensors (<c>*_exps</c>) in host memory (<c>--cpu-moe</c>); they then count as host bytes.</summary>
    public bool ExpertsOnHost { get; init; }

    /// <summary>
    /// Keep the MoE expert tensors of the first this-many blocks in host memory (<c>--n-cpu-moe N</c>), the rest on
    /// the GPU with their layers; 0 = none (unless <see cref="ExpertsOnHost"/>).
    /// </summary>
    public int ExpertLayersOnHost { get; init; }

    /// <summary>
    /// Context checkpoints llama-server keeps per slot (<c>--ctx-checkpoints</c>, default 32) for models whose cache
    /// cannot be cut back to a shorter prompt (recurrent state, sliding windows): each is a copy, in host memory, of
    /// one sequence's recurrent state and sliding-window cache. 0 = none (llama-cli, or <c>--ctx-checkpoints 0</c>).
    /// </summary>
    public int ContextCheckpoints { get; init; } = DefaultContextCheckpoints;

    /// <summary>llama-server's default --ctx-checkpoints.</summary>
    public const int DefaultContextCheckpoints = 32;

    /// <summary>Whether block <paramref name="layer"/>'s experts stay in host memory.</summary>
    public bool KeepsExpertsOnHost(int layer) => ExpertsOnHost || layer < ExpertLayersOnHost;

    /// <summary>
    /// Bytes every GPU loses before any buffer: the CUDA context, cuBLAS workspace and the allocator's slack.
    /// 400 MiB is typical for CUDA 12 on a recent card (300-500 MiB measured by users); Metal and CPU need none.
    /// </summary>
    public long DeviceOverheadBytes { get; init; } = 400 * MiB;

    /// <summary>Tokens the context is rounded up to. llama.cpp (as bundled with LLamaSharp 0.30.0) pads n_ctx to 256.</summary>
    public int ContextPadding { get; init; } = 256;

    /// <summary>The context llama.cpp allocates: <see cref="ContextLength"/> rounded up to <see cref="ContextPadding"/>.</summary>
    public int PaddedContext => PadContext(ContextLength, ContextPadding);

    /// <summary>Rounds a token count up to the padding, as GGML_PAD does.</summary>
    public static int PadContext(int tokens, int padding) => Math.Max(padding, (tokens + padding - 1) / padding * padding);
}

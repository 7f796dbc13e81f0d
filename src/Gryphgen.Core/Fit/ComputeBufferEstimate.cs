namespace Gryphgen.Core.Fit;

/// <summary>
/// The compute (graph scratch) buffer ggml's allocator reserves for one ubatch, in bytes, and the output (logits)
/// buffer on the host. The compute buffer is the peak of live F32 tensors over the graph; the stages that peak are
/// modelled, fitted to llama.cpp's CPU "compute buffer size" lines (within 15 %):
/// <list type="bullet">
/// <item>output stage: logits n_vocab × ubatch plus two n_embd × ubatch activations (only where the output layer runs);</item>
/// <item>attention without flash attention: KQ n_head × n_kv × ubatch, its mask and seven n_embd × ubatch activations;</item>
/// <item>MLA attention (deepseek2): the absorbed per-head query and latent output beside the above;</item>
/// <item>a Mamba-2 layer: its in-projection, convolution and scan activations (fitted), with the F16 mask;</item>
/// <item>feed-forward / flash attention: three n_embd and three activations as wide as the widest FFN of a token (the dense FFN, or the expert width × experts used), plus the F16 mask.</item>
/// </list>
/// </summary>
public sealed class ComputeBufferEstimate
{
    private ComputeBufferEstimate(long output, long attention, long feedForward, long outputBuffer)
    {
        OutputStageBytes = output;
        AttentionStageBytes = attention;
        FeedForwardStageBytes = feedForward;
        OutputBufferBytes = outputBuffer;
    }

    /// <summary>Peak of the output stage (logits of one ubatch), bytes.</summary>
    public long OutputStageBytes { get; }

    /// <summary>Peak of an attention layer, bytes.</summary>
    public long AttentionStageBytes { get; }

    /// <summary>Peak of a feed-forward layer (and of flash attention), bytes.</summary>
    public long FeedForwardStageBytes { get; }

    /// <summary>
    /// The host output buffer, bytes: n_vocab floats (plus n_embd with embeddings) per reserved output. llama.cpp
    /// reserves n_seq_max outputs when the context is created and grows it only when a batch asks for more logits.
    /// </summary>
    public long OutputBufferBytes { get; }

    /// <summary>Compute buffer of a device that runs repeating layers and, when <paramref name="withOutput"/>, the output layer.</summary>
    public long DeviceBytes(bool withOutput) =>
        Math.Max(withOutput ? OutputStageBytes : 0, Math.Max(AttentionStageBytes, FeedForwardStageBytes));

    /// <summary>Estimates the stages for a model under the settings.</summary>
    public static ComputeBufferEstimate From(LlamaCppModelShape shape, LlamaCppSettings settings)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(settings);
        long ub = Math.Max(1, Math.Min(settings.UBatchSize, Math.Min(settings.BatchSize, settings.ContextLength)));
        long nKv = settings.PaddedContext;
        long nEmbd = shape.EmbeddingLength;
        var ffn = shape.FeedForwardActivationWidth;
        var output = ub * 4 * (shape.VocabularySize + (2 * nEmbd));
        var mask = settings.FlashAttention ? ub * 2 * nKv : 0;
        var attention = settings.FlashAttention ? 0 : ub * 4 * (((long)shape.HeadCount * nKv) + (7 * nEmbd) + nKv);
        if (shape.MlaActivationWidth > 0)
        {
            // MLA multiplies the query into the latent space: per head a kv_lora + rope wide query and a kv_lora
            // wide output live beside the scores, with or without flash attention.
            attention = (ub * 4 * (shape.MlaActivationWidth + (7 * nEmbd) + (settings.FlashAttention ? 0 : ((long)shape.HeadCount * nKv) + nKv))) + mask;
        }

        var recurrent = shape.RecurrentActivationWidth > 0 ? (ub * 4 * shape.RecurrentActivationWidth) + mask : 0;
        var feedForward = Math.Max((ub * 4 * ((3 * nEmbd) + (3 * ffn))) + mask, recurrent);
        var outputs = Math.Max(1, settings.Parallel);
        var outputBuffer = (long)outputs * 4 * (shape.VocabularySize + (settings.Embeddings ? nEmbd : 0));
        return new ComputeBufferEstimate(output, attention, feedForward, outputBuffer);
    }
}

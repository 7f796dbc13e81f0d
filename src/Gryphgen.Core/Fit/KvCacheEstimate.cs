namespace Gryphgen.Core.Fit;

/// <summary>
/// The KV cache llama.cpp (llama-kv-cache.cpp) allocates, per layer, in bytes. Full-attention layers hold
/// the padded context; sliding-window layers of the architectures where llama.cpp applies SWA hold
/// window × parallel + ubatch tokens (padded); recurrent layers hold an F32 state per sequence instead, and
/// layers of neither kind (Nemotron-H's MLP blocks) hold nothing. Without flash attention V is stored transposed
/// and every cached layer's V is as wide as the widest cached layer's. MLA (deepseek2) caches K only.
/// </summary>
public sealed class KvCacheEstimate
{
    private KvCacheEstimate(int cells, int swaCells, long[] k, long[] v, long[] state)
    {
        Cells = cells;
        SlidingWindowCells = swaCells;
        LayerKeyBytes = k;
        LayerValueBytes = v;
        LayerStateBytes = state;
    }

    /// <summary>Cells (tokens) of a full-attention layer: the padded context.</summary>
    public int Cells { get; }

    /// <summary>Cells (tokens) of a sliding-window layer; equals <see cref="Cells"/> when the model has none.</summary>
    public int SlidingWindowCells { get; }

    /// <summary>K cache bytes per layer.</summary>
    public IReadOnlyList<long> LayerKeyBytes { get; }

    /// <summary>V cache bytes per layer.</summary>
    public IReadOnlyList<long> LayerValueBytes { get; }

    /// <summary>Recurrent (SSM) state bytes per layer, F32, all sequences; 0 for attention layers.</summary>
    public IReadOnlyList<long> LayerStateBytes { get; }

    /// <summary>Bytes of layer <paramref name="layer"/>: K + V + recurrent state.</summary>
    public long LayerBytes(int layer) => LayerKeyBytes[layer] + LayerValueBytes[layer] + LayerStateBytes[layer];

    /// <summary>
    /// One sequence's partial state, bytes: its recurrent state and its sliding-window cache, what a llama-server
    /// context checkpoint copies (llama_state_seq_get_data with LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY); 0 for a model
    /// with neither, which llama-server never checkpoints. The window part is an upper bound: the cells in use.
    /// </summary>
    public long CheckpointBytes { get; private init; }

    /// <summary>The whole cache, bytes: what llama.cpp's "KV buffer size" lines add up to.</summary>
    public long TotalBytes => LayerKeyBytes.Sum() + LayerValueBytes.Sum() + LayerStateBytes.Sum();

    /// <summary>Sizes the cache of <paramref name="shape"/> under <paramref name="settings"/>.</summary>
    public static KvCacheEstimate From(LlamaCppModelShape shape, LlamaCppSettings settings)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(settings);
        var n = shape.LayerCount;
        var cells = settings.PaddedContext;
        var parallel = Math.Max(1, settings.Parallel);
        var ubatch = Math.Min(settings.UBatchSize, Math.Min(settings.BatchSize, settings.ContextLength));
        var swaCells = shape.SlidingWindow > 0
            ? Math.Min(cells, LlamaCppSettings.PadContext((shape.SlidingWindow * parallel) + ubatch, settings.ContextPadding))
            : cells;
        // Without flash attention V is stored transposed, padded to the widest V of the layers that have a cache.
        long vMax = 0;
        for (var il = 0; il < n; il++)
        {
            if (shape.Attention[il] is LayerAttention.Full or LayerAttention.SlidingWindow)
            {
                vMax = Math.Max(vMax, shape.ValueWidth[il]);
            }
        }

        var k = new long[n];
        var v = new long[n];
        var state = new long[n];
        for (var il = 0; il < n; il++)
        {
            switch (shape.Attention[il])
            {
                case LayerAttention.Recurrent:
                    state[il] = shape.RecurrentStateElements * parallel * 4;
                    break;
                case LayerAttention.None:
                    break;
                default:
                    long layerCells = shape.Attention[il] == LayerAttention.SlidingWindow ? swaCells : cells;
                    var vWidth = settings.FlashAttention || shape.IsMla ? shape.ValueWidth[il] : vMax;
                    k[il] = KvCacheTypes.ByteSize(settings.CacheTypeK, shape.KeyWidth[il] * layerCells);
                    v[il] = KvCacheTypes.ByteSize(settings.CacheTypeV, vWidth * layerCells);
                    break;
            }
        }

        long checkpoint = 0;
        for (var il = 0; il < n; il++)
        {
            checkpoint += shape.Attention[il] switch
            {
                LayerAttention.Recurrent => state[il] / parallel,
                LayerAttention.SlidingWindow => (k[il] + v[il]) / parallel,
                _ => 0,
            };
        }

        return new KvCacheEstimate(cells, swaCells, k, v, state) { CheckpointBytes = checkpoint };
    }
}

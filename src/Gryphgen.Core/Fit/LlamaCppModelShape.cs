using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>What a layer keeps per token or per sequence.</summary>
public enum LayerAttention
{
    /// <summary>A KV cache over the whole context.</summary>
    Full,

    /// <summary>A KV cache over a sliding window (or a chunk, Llama 4).</summary>
    SlidingWindow,

    /// <summary>No KV cache: a fixed recurrent state per sequence (Mamba, gated delta-net, short convolution).</summary>
    Recurrent,

    /// <summary>Neither (Nemotron-H's MLP-only layers).</summary>
    None,
}

/// <summary>
/// The hyper-parameters of a GGUF model that decide llama.cpp's buffer sizes, read as llama-model.cpp reads them
/// (defaults included: key/value length n_embd / n_head, head_count_kv = head_count), with each layer's kind:
/// full attention, sliding window, recurrent or none, from what the file says (full_attention_interval, zeros in the
/// per-layer head_count_kv and feed_forward_length arrays, sliding_window_pattern) and llama.cpp's per-architecture
/// rules where it says nothing.
/// </summary>
public sealed class LlamaCppModelShape
{
    /// <summary>Most layers, heads or widths a model may claim; larger claims are corrupt files, not models.</summary>
    private const int SaneLimit = 1 << 20;

    /// <summary>
    /// Architectures whose sliding-window layers llama.cpp really sizes by the window, with the swa pattern
    /// (every pattern-th layer is full attention). Others, "llama" (Mistral v0.1) included, get a full cache
    /// whatever their sliding_window key says; Gemma 4 says per layer (sliding_window_pattern).
    /// </summary>
    private static readonly Dictionary<string, int> SwaPatterns = new(StringComparer.Ordinal)
    {
        ["gemma2"] = 2,
        ["gemma3"] = 6,
        ["cohere2"] = 4,
        ["gpt-oss"] = 2,
        ["exaone4"] = 4,
        ["llama4"] = 4,
    };

    /// <summary>Every layer recurrent (Mamba); state from the ssm.* keys.</summary>
    private static readonly HashSet<string> RecurrentArchitectures = new(StringComparer.Ordinal) { "mamba", "mamba2" };

    /// <summary>Gated delta-net + full attention every full_attention_interval-th layer (default 4).</summary>
    private static readonly HashSet<string> IntervalHybrids = new(StringComparer.Ordinal) { "qwen3next", "qwen35", "qwen35moe" };

    /// <summary>Recurrent where head_count_kv is 0 (Mamba-2 in Granite and Jamba, short convolution in LFM2).</summary>
    private static readonly HashSet<string> ZeroKvHybrids = new(StringComparer.Ordinal) { "granitehybrid", "jamba", "lfm2", "lfm2moe" };

    /// <summary>Recurrent where both head_count_kv and feed_forward_length are 0; MLP-only where only head_count_kv is.</summary>
    private static readonly HashSet<string> NemotronHybrids = new(StringComparer.Ordinal) { "nemotron_h", "nemotron_h_moe" };

    /// <summary>Architectures with recurrent or linear-attention state this estimate does not model.</summary>
    private static readonly HashSet<string> UnmodelledArchitectures = new(StringComparer.Ordinal)
    {
        "falcon-h1", "kimi-linear", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7", "plamo2", "plamo3", "deepseek4", "minimax-m3",
    };

    private LlamaCppModelShape()
    {
    }

    /// <summary>general.architecture.</summary>
    public string Architecture { get; private init; } = "";

    /// <summary>Repeating blocks (n_layer), NextN blocks included.</summary>
    public int LayerCount { get; private init; }

    /// <summary>Trailing NextN (multi-token prediction) blocks: llama.cpp skips their weights but still caches them.</summary>
    public int NextNLayerCount { get; private init; }

    /// <summary>Hidden size n_embd, elements.</summary>
    public int EmbeddingLength { get; private init; }

    /// <summary>Attention heads (n_head).</summary>
    public int HeadCount { get; private init; }

    /// <summary>Feed-forward width of one expert (or of the dense FFN), elements.</summary>
    public int FeedForwardLength { get; private init; }

    /// <summary>The widest feed-forward activation of one token, elements: the dense FFN or the experts used × expert width.</summary>
    public long FeedForwardActivationWidth { get; private init; }

    /// <summary>Experts used per token; 1 for a dense model.</summary>
    public int ExpertsUsed { get; private init; }

    /// <summary>Vocabulary size, tokens: the width of the logits.</summary>
    public int VocabularySize { get; private init; }

    /// <summary>Trained context (context_length), tokens; null when the file does not say.</summary>
    public int? TrainedContext { get; private init; }

    /// <summary>K width per layer (n_embd_k_gqa = key_length × head_count_kv), elements per token.</summary>
    public IReadOnlyList<long> KeyWidth { get; private init; } = Array.Empty<long>();

    /// <summary>V width per layer (n_embd_v_gqa), elements per token; 0 for MLA's K-only cache.</summary>
    public IReadOnlyList<long> ValueWidth { get; private init; } = Array.Empty<long>();

    /// <summary>Attention kind per layer.</summary>
    public IReadOnlyList<LayerAttention> Attention { get; private init; } = Array.Empty<LayerAttention>();

    /// <summary>Sliding window, tokens, for layers marked <see cref="LayerAttention.SlidingWindow"/>.</summary>
    public int SlidingWindow { get; private init; }

    /// <summary>Recurrent state per recurrent layer and sequence, F32 elements (llama-hparams n_embd_r + n_embd_s).</summary>
    public long RecurrentStateElements { get; private init; }

    /// <summary>Multi-head latent attention (deepseek2 with key_length_mla): a K-only cache of the latent plus rope part.</summary>
    public bool IsMla { get; private init; }

    /// <summary>
    /// Extra F32 activations per token of an MLA attention layer: the absorbed query (kv_lora_rank + rope wide),
    /// the latent output (kv_lora_rank) and the non-rotary query part, for every head; 0 without MLA.
    /// </summary>
    public long MlaActivationWidth { get; private init; }

    /// <summary>F32 activations per token live in a Mamba-2 layer (in-projection, convolution, scan, gating); 0 for other models. Fitted to llama.cpp's CPU compute buffers.</summary>
    public long RecurrentActivationWidth { get; private init; }

    /// <summary>Why the estimate for this architecture is only approximate; null when it is modelled.</summary>
    public string? Caveat { get; private init; }

    /// <summary>Whether any layer has a recurrent state.</summary>
    public bool IsHybridOrRecurrent => Attention.Any(a => a == LayerAttention.Recurrent);

    /// <summary>Reads the shape from a model's metadata; a file without block_count or embedding_length, or with impossible values, is rejected.</summary>
    public static LlamaCppModelShape From(GgufModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var header = model.GetHeaders()[0];
        var arch = model.Architecture ?? "";
        int? Int(string suffix) => header.GetArchitectureValue(suffix)?.AsInt32();
        var nLayer = model.BlockCount ?? throw Missing(model, "block_count");
        var tensorCount = model.TensorCount;
        if (nLayer <= 0 || nLayer > Math.Max(1, tensorCount))
        {
            // Every block holds at least one tensor, so a claim beyond the tensor table is corruption, and
            // sizing it would cost work and memory in proportion to the claim, not to the file.
            throw Impossible(model, "block_count", nLayer, $"between 1 and the file's {tensorCount} tensors");
        }

        var nEmbd = model.EmbeddingLength ?? throw Missing(model, "embedding_length");
        Sane(model, "embedding_length", nEmbd, positive: true);
        var perLayerHeads = PerLayer(model, "attention.head_count", model.HeadCountPerLayer, nLayer);
        var nHead = model.HeadCount ?? (perLayerHeads is { } ph ? ph.Max() : 0);
        Sane(model, "attention.head_count", nHead, positive: false);
        var keyLength = model.KeyLength ?? (nHead > 0 ? nEmbd / nHead : 0);
        var valueLength = model.ValueLength ?? (nHead > 0 ? nEmbd / nHead : 0);
        Sane(model, "attention.key_length", keyLength, positive: false);
        Sane(model, "attention.value_length", valueLength, positive: false);
        var kvPerLayer = PerLayer(model, "attention.head_count_kv", model.HeadCountKvPerLayer, nLayer);
        var ffPerLayer = PerLayer(model, "feed_forward_length", model.FeedForwardLengthPerLayer, nLayer);
        var kvHeadsAll = model.HeadCountKv ?? nHead;
        Sane(model, "attention.head_count_kv", kvHeadsAll, positive: false);
        int KvHeads(int il) => kvPerLayer is { } per ? per[il] : kvHeadsAll;
        int FeedForward(int il) => ffPerLayer is { } per ? per[il] : model.FeedForwardLength ?? 0;

        var key = new long[nLayer];
        var value = new long[nLayer];
        var attention = new LayerAttention[nLayer];
        var kvLora = Int("attention.kv_lora_rank");
        var isMla = arch is "deepseek2" or "glm_dsa" && kvLora is > 0 && Int("attention.key_length_mla") is > 0 && Int("attention.value_length_mla") is > 0;
        long ropeDims = Int("rope.dimension_count") ?? 64;
        var swaPattern = SwaPatterns.TryGetValue(arch, out var p) ? p : 0;
        var swaFlags = SlidingPattern(header.GetArchitectureValue("attention.sliding_window_pattern"), nLayer);
        var window = model.SlidingWindow ?? (arch == "llama4" ? Int("attention.chunk_size") ?? 8192 : 0);
        var keyLengthSwa = Int("attention.key_length_swa") ?? keyLength;
        var valueLengthSwa = Int("attention.value_length_swa") ?? valueLength;
        var interval = Int("full_attention_interval") ?? 4;
        string? caveat = UnmodelledArchitectures.Contains(arch)
            ? $"llama.cpp's memory for the '{arch}' architecture (recurrent or compressed attention state) is not modelled: the figures treat every layer as full attention"
            : null;
        for (var il = 0; il < nLayer; il++)
        {
            var kvHeads = KvHeads(il);
            var kind = LayerAttention.Full;
            if (RecurrentArchitectures.Contains(arch))
            {
                kind = LayerAttention.Recurrent;
            }
            else if (IntervalHybrids.Contains(arch))
            {
                kind = interval > 0 && (il + 1) % interval == 0 ? LayerAttention.Full : LayerAttention.Recurrent;
            }
            else if (ZeroKvHybrids.Contains(arch))
            {
                kind = kvHeads == 0 ? LayerAttention.Recurrent : LayerAttention.Full;
            }
            else if (NemotronHybrids.Contains(arch))
            {
                kind = kvHeads > 0 ? LayerAttention.Full : FeedForward(il) == 0 ? LayerAttention.Recurrent : LayerAttention.None;
            }
            else if (swaFlags is not null && window > 0)
            {
                kind = swaFlags[il] ? LayerAttention.SlidingWindow : LayerAttention.Full;
            }
            else if (swaPattern > 0 && window > 0 && il % swaPattern < swaPattern - 1)
            {
                kind = LayerAttention.SlidingWindow;
            }

            attention[il] = kind;
            if (kind is LayerAttention.Recurrent or LayerAttention.None)
            {
                continue;
            }

            if (isMla)
            {
                // MLA caches K only: the compressed latent plus the rope part of K, for one shared head; V is a
                // view of the latent part of that same row.
                key[il] = kvLora!.Value + ropeDims;
                value[il] = 0;
            }
            else if (kind == LayerAttention.SlidingWindow)
            {
                key[il] = (long)keyLengthSwa * kvHeads;
                value[il] = (long)valueLengthSwa * kvHeads;
            }
            else
            {
                key[il] = (long)keyLength * kvHeads;
                value[il] = (long)valueLength * kvHeads;
            }
        }

        long state = 0, recurrentActivations = 0;
        if (attention.Any(a => a == LayerAttention.Recurrent))
        {
            if (arch is "lfm2" or "lfm2moe")
            {
                // LFM2's short convolution keeps (l_cache - 1) columns of n_embd and no SSM state.
                state = (long)nEmbd * Math.Max(0, (Int("shortconv.l_cache") ?? 3) - 1);
            }
            else
            {
                long conv = Int("ssm.conv_kernel") ?? 4;
                long inner = Int("ssm.inner_size") ?? 2L * nEmbd;
                long dState = Int("ssm.state_size") ?? 16;
                long groups = Int("ssm.group_count") ?? 0;
                Sane(model, "ssm.inner_size", (int)Math.Min(inner, int.MaxValue), positive: false);
                Sane(model, "ssm.state_size", (int)Math.Min(dState, int.MaxValue), positive: false);
                Sane(model, "ssm.group_count", (int)Math.Min(groups, int.MaxValue), positive: false);
                state = (Math.Max(0, conv - 1) * (inner + (2 * groups * dState))) + (dState * inner);
                if (arch is "mamba2" or "granitehybrid" or "nemotron_h" or "nemotron_h_moe")
                {
                    long heads = Int("ssm.time_step_rank") ?? 0;
                    var convDim = inner + (2 * groups * dState);
                    recurrentActivations = (2 * inner) + (2 * groups * dState) + heads + (3 * convDim) + (8 * inner) + (2L * nEmbd);
                }
            }
        }

        var experts = Math.Max(1, model.ExpertUsedCount ?? 1);
        var denseWidth = ffPerLayer is { } ffs ? ffs.Max() : model.FeedForwardLength ?? 4L * nEmbd;
        var expertWidth = Int("expert_feed_forward_length");
        long ffnActivation = model.ExpertCount is > 0
            ? Math.Max(expertWidth is > 0 ? (long)expertWidth.Value * experts : denseWidth * experts,
                Int("leading_dense_block_count") is > 0 ? denseWidth : 0)
            : denseWidth;
        return new LlamaCppModelShape
        {
            Architecture = arch,
            LayerCount = nLayer,
            NextNLayerCount = Math.Clamp(Int("nextn_predict_layers") ?? 0, 0, nLayer - 1),
            EmbeddingLength = nEmbd,
            HeadCount = nHead,
            FeedForwardLength = (int)Math.Min(int.MaxValue, denseWidth),
            FeedForwardActivationWidth = ffnActivation,
            ExpertsUsed = experts,
            VocabularySize = model.VocabularySize ?? 0,
            TrainedContext = model.ContextLength,
            KeyWidth = key,
            ValueWidth = value,
            Attention = attention,
            SlidingWindow = window,
            RecurrentStateElements = state,
            IsMla = isMla,
            MlaActivationWidth = isMla
                ? nHead * ((2L * kvLora!.Value) + ropeDims + Math.Max(0, (Int("attention.key_length_mla") ?? 0) - ropeDims))
                : 0,
            RecurrentActivationWidth = recurrentActivations,
            Caveat = caveat,
        };
    }

    private static bool[]? SlidingPattern(GgufValue? value, int layers)
    {
        if (value?.AsArray() is not { } array || array.Count != layers)
        {
            return null;
        }

        try
        {
            return array.ToInt64Array().Select(v => v != 0).ToArray();
        }
        catch (InvalidCastException)
        {
            return null;
        }
    }

    private static IReadOnlyList<int>? PerLayer(GgufModel model, string key, IReadOnlyList<int>? values, int layers)
    {
        if (values is null)
        {
            return null;
        }

        if (values.Count < layers)
        {
            throw new GryphgenException("GgufShapeInvalid", GryphgenErrorKind.InvalidData,
                $"The model '{model.Name}' gives {model.Architecture}.{key} for {values.Count} layers but has {layers}, so its memory cannot be estimated.", model.Path);
        }

        foreach (var v in values)
        {
            Sane(model, key, v, positive: false);
        }

        return values;
    }

    private static void Sane(GgufModel model, string key, int value, bool positive)
    {
        if (value < (positive ? 1 : 0) || value > SaneLimit)
        {
            throw Impossible(model, key, value, positive ? $"between 1 and {SaneLimit}" : $"between 0 and {SaneLimit}");
        }
    }

    private static GryphgenException Impossible(GgufModel model, string key, long value, string expected) =>
        new("GgufShapeInvalid", GryphgenErrorKind.InvalidData,
            $"The model '{model.Name}' says {model.Architecture}.{key} = {value}, which no model has (expected {expected}); the file is corrupt, so its memory cannot be estimated.", model.Path);

    private static GryphgenException Missing(GgufModel model, string key) =>
        new("GgufShapeMissing", GryphgenErrorKind.InvalidData,
            $"The model '{model.Name}' has no {model.Architecture}.{key}, so its memory cannot be estimated.", model.Path);
}

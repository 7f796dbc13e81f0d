using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>How a layer attends: to the whole context, to a sliding window, or not at all (recurrent state).</summary>
public enum LayerAttention
{
    Full,
    SlidingWindow,
    Recurrent,
}

/// <summary>
/// The hyper-parameters of a GGUF model that decide llama.cpp's buffer sizes, read as llama-model.cpp reads them
/// (defaults included: key/value length n_embd / n_head, head_count_kv = head_count).
/// </summary>
public sealed class LlamaCppModelShape
{
    /// <summary>
    /// Architectures whose sliding-window layers llama.cpp really sizes by the window, with the swa pattern
    /// (every pattern-th layer is full attention). Others, "llama" (Mistral v0.1) included, get a full cache
    /// whatever their sliding_window key says.
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

    private static readonly HashSet<string> RecurrentArchitectures = new(StringComparer.Ordinal) { "mamba", "mamba2" };

    private LlamaCppModelShape()
    {
    }

    /// <summary>general.architecture.</summary>
    public string Architecture { get; private init; } = "";

    /// <summary>Repeating blocks (n_layer).</summary>
    public int LayerCount { get; private init; }

    /// <summary>Hidden size n_embd, elements.</summary>
    public int EmbeddingLength { get; private init; }

    /// <summary>Attention heads (n_head).</summary>
    public int HeadCount { get; private init; }

    /// <summary>Feed-forward width of one expert (or of the dense FFN), elements.</summary>
    public int FeedForwardLength { get; private init; }

    /// <summary>Experts used per token; 1 for a dense model.</summary>
    public int ExpertsUsed { get; private init; }

    /// <summary>Vocabulary size, tokens: the width of the logits.</summary>
    public int VocabularySize { get; private init; }

    /// <summary>Trained context (context_length), tokens; null when the file does not say.</summary>
    public int? TrainedContext { get; private init; }

    /// <summary>K width per layer (n_embd_k_gqa = key_length × head_count_kv), elements per token.</summary>
    public IReadOnlyList<long> KeyWidth { get; private init; } = Array.Empty<long>();

    /// <summary>V width per layer (n_embd_v_gqa), elements per token.</summary>
    public IReadOnlyList<long> ValueWidth { get; private init; } = Array.Empty<long>();

    /// <summary>Attention kind per layer.</summary>
    public IReadOnlyList<LayerAttention> Attention { get; private init; } = Array.Empty<LayerAttention>();

    /// <summary>Sliding window, tokens, for layers marked <see cref="LayerAttention.SlidingWindow"/>.</summary>
    public int SlidingWindow { get; private init; }

    /// <summary>Recurrent state per layer and sequence, F32 elements (mamba conv + ssm state); 0 for attention models.</summary>
    public long RecurrentStateElements { get; private init; }

    /// <summary>Multi-head latent attention (deepseek2 kv_lora_rank): the cache holds the compressed latent.</summary>
    public bool IsMla { get; private init; }

    /// <summary>Reads the shape from a model's metadata; a file without block_count or embedding_length is rejected.</summary>
    public static LlamaCppModelShape From(GgufModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var header = model.GetHeaders()[0];
        var arch = model.Architecture ?? "";
        int? Int(string suffix) => header.GetArchitectureValue(suffix)?.AsInt32();
        var nLayer = model.BlockCount ?? throw Invalid(model, "block_count");
        var nEmbd = model.EmbeddingLength ?? throw Invalid(model, "embedding_length");
        var nHead = model.HeadCount ?? model.HeadCountPerLayer?.Max() ?? 0;
        var keyLength = model.KeyLength ?? (nHead > 0 ? nEmbd / nHead : 0);
        var valueLength = model.ValueLength ?? (nHead > 0 ? nEmbd / nHead : 0);
        var key = new long[nLayer];
        var value = new long[nLayer];
        var attention = new LayerAttention[nLayer];
        var kvLora = Int("attention.kv_lora_rank");
        var isMla = arch == "deepseek2" && kvLora is > 0;
        var ropeDims = Int("rope.dimension_count") ?? 64;
        var swaPattern = SwaPatterns.TryGetValue(arch, out var p) ? p : 0;
        var window = model.SlidingWindow ?? (arch == "llama4" ? Int("attention.chunk_size") ?? 8192 : 0);
        var recurrent = RecurrentArchitectures.Contains(arch);
        for (var il = 0; il < nLayer; il++)
        {
            var kvHeads = model.HeadCountKvPerLayer is { } per && il < per.Count ? per[il] : model.HeadCountKv ?? nHead;
            if (isMla)
            {
                // The MLA cache keeps the latent (kv_lora_rank) plus the rope part of K, for one shared head.
                key[il] = kvLora!.Value + ropeDims;
                value[il] = kvLora.Value;
            }
            else
            {
                key[il] = (long)keyLength * kvHeads;
                value[il] = (long)valueLength * kvHeads;
            }

            attention[il] = recurrent ? LayerAttention.Recurrent
                : swaPattern > 0 && window > 0 && il % swaPattern < swaPattern - 1 ? LayerAttention.SlidingWindow
                : LayerAttention.Full;
        }

        long state = 0;
        if (recurrent)
        {
            long conv = Int("ssm.conv_kernel") ?? 4;
            long inner = Int("ssm.inner_size") ?? 2L * nEmbd;
            long dState = Int("ssm.state_size") ?? 16;
            long groups = Int("ssm.group_count") ?? 0;
            state = ((conv - 1) * (inner + (2 * groups * dState))) + (dState * inner);
        }

        return new LlamaCppModelShape
        {
            Architecture = arch,
            LayerCount = nLayer,
            EmbeddingLength = nEmbd,
            HeadCount = nHead,
            FeedForwardLength = model.FeedForwardLength ?? model.FeedForwardLengthPerLayer?.Max() ?? 4 * nEmbd,
            ExpertsUsed = Math.Max(1, model.ExpertUsedCount ?? 1),
            VocabularySize = model.VocabularySize ?? 0,
            TrainedContext = model.ContextLength,
            KeyWidth = key,
            ValueWidth = value,
            Attention = attention,
            SlidingWindow = window,
            RecurrentStateElements = state,
            IsMla = isMla,
        };
    }

    private static GryphgenException Invalid(GgufModel model, string key) =>
        new("GgufShapeMissing", GryphgenErrorKind.InvalidData,
            $"The model '{model.Name}' has no {model.Architecture}.{key}, so its memory cannot be estimated.", model.Path);
}

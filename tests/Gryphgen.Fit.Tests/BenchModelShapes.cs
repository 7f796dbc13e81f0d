using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The released models of the published llama-bench table (tests/data/llama-bench-published.csv, column model_id),
/// shaped from their published configurations (config.json on each model's Hugging Face page): the layer counts,
/// widths, heads and vocabularies llama.cpp's converter writes.
/// </summary>
internal static class BenchModelShapes
{
    private static readonly Dictionary<string, GgufModelShape> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        // meta-llama/Llama-2-7b-hf (also CodeLlama-7b, vocabulary 32016: the difference is 0.05 % of the weights).
        ["Llama-2-7B"] = Dense("Llama-2-7B", 32, 4096, 11008, 32, 32, 32000, 4096),
        // meta-llama/Llama-2-13b-hf.
        ["Llama-2-13B"] = Dense("Llama-2-13B", 40, 5120, 13824, 40, 40, 32000, 4096),
        // mistralai/Mistral-7B-Instruct-v0.2.
        ["Mistral-7B"] = Dense("Mistral-7B", 32, 4096, 14336, 32, 8, 32000, 32768),
        // mistralai/Mistral-Nemo-Base-2407: head_dim 128 under a 5120 width.
        ["Mistral-Nemo-12B"] = Dense("Mistral-Nemo-12B", 40, 5120, 14336, 32, 8, 131072, 131072) with { KeyLength = 128, ValueLength = 128 },
        // meta-llama/Meta-Llama-3-8B and Llama-3.1-8B.
        ["Llama-3-8B"] = ReleasedModelShapes.Llama31Dense8B,
        // meta-llama/Llama-3.2-3B: tied embeddings.
        ["Llama-3.2-3B"] = Dense("Llama-3.2-3B", 28, 3072, 8192, 24, 8, 128256, 131072) with { TiedOutput = true },
        // TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T.
        ["TinyLlama-1.1B"] = Dense("TinyLlama-1.1B", 22, 2048, 5632, 32, 4, 32000, 2048),
        // meta-llama/Llama-3.1-70B (and Llama-3.3-70B).
        ["Llama-3.1-70B"] = Dense("Llama-3.1-70B", 80, 8192, 28672, 64, 8, 128256, 131072),
        // Qwen/Qwen2.5-14B and Qwen2.5-32B.
        ["Qwen2.5-14B"] = Dense("Qwen2.5-14B", 48, 5120, 13824, 40, 8, 152064, 131072) with { Architecture = "qwen2" },
        ["Qwen2.5-32B"] = Dense("Qwen2.5-32B", 64, 5120, 27648, 40, 8, 152064, 131072) with { Architecture = "qwen2" },
        // Qwen/Qwen3-4B: head_dim 128, Q/K norms, tied embeddings.
        ["Qwen3-4B"] = Dense("Qwen3-4B", 36, 2560, 9728, 32, 8, 151936, 40960) with { Architecture = "qwen3", KeyLength = 128, ValueLength = 128, QkNorm = true, TiedOutput = true },
        // Qwen/Qwen3-32B.
        ["Qwen3-32B"] = Dense("Qwen3-32B", 64, 5120, 25600, 64, 8, 151936, 40960) with { Architecture = "qwen3", KeyLength = 128, ValueLength = 128, QkNorm = true },
        ["Qwen3-30B-A3B"] = ReleasedModelShapes.Qwen3Moe30BA3B,
        ["gpt-oss-20b"] = ReleasedModelShapes.GptOss20B,
        // openai/gpt-oss-120b: gpt-oss-20b's blocks, 36 of them, with 128 experts.
        ["gpt-oss-120b"] = ReleasedModelShapes.GptOss20B with { Name = "gpt-oss-120b (shape only)", BlockCount = 36, ExpertCount = 128 },
    };

    /// <summary>The shape of <paramref name="modelId"/> at <paramref name="fileType"/>, or null when the table's model is not one of these.</summary>
    public static GgufModelShape? Find(string modelId, string fileType) =>
        Shapes.TryGetValue(modelId, out var shape) ? shape with { FileType = fileType } : null;

    private static GgufModelShape Dense(string name, int blocks, int width, int ffn, int heads, int kvHeads, int vocabulary, int context) => new()
    {
        Name = name + " (shape only)",
        BlockCount = blocks,
        EmbeddingLength = width,
        FeedForwardLength = ffn,
        HeadCount = heads,
        HeadCountKv = kvHeads,
        VocabularySize = vocabulary,
        ContextLength = context,
    };
}

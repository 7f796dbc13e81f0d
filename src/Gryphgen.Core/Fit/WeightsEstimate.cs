using System.Globalization;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>
/// The model's weights in bytes, per tensor group as llama.cpp places them: the input layer (token_embd) always
/// stays in host memory, repeating block N is offloaded with layer N, and the output layer (output.weight,
/// output_norm) is offloaded first, i.e. when n_gpu_layers exceeds the block count. Exact: summed from the
/// tensor table's sizes, which is what llama.cpp's "model buffer size" lines add up to.
/// </summary>
public sealed class WeightsEstimate
{
    private WeightsEstimate(long input, long output, long duplicatedOutput, long[] layers, long[] experts)
    {
        InputBytes = input;
        OutputBytes = output;
        DuplicatedOutputBytes = duplicatedOutput;
        LayerBytes = layers;
        LayerExpertBytes = experts;
    }

    /// <summary>Bytes of the input layer (token_embd and every tensor outside blk.N and output*): kept on the host.</summary>
    public long InputBytes { get; }

    /// <summary>Bytes of the output layer (output.weight, output_norm.*): on the GPU when n_gpu_layers &gt; block count.</summary>
    public long OutputBytes { get; }

    /// <summary>
    /// Bytes of a second copy of token_embd that llama.cpp loads onto the output layer's GPU when the model has no
    /// output.weight (tied embeddings, llama-model-loader's TENSOR_DUPLICATED); 0 when the model has an output
    /// matrix. On the CPU both uses share one tensor.
    /// </summary>
    public long DuplicatedOutputBytes { get; }

    /// <summary>Bytes of each repeating block blk.N.*, experts included, indexed by N; 0 for NextN blocks, whose tensors llama.cpp skips.</summary>
    public IReadOnlyList<long> LayerBytes { get; }

    /// <summary>Bytes of each block's MoE expert tensors (*_exps), indexed by N: the part <c>--cpu-moe</c> keeps on the host.</summary>
    public IReadOnlyList<long> LayerExpertBytes { get; }

    /// <summary>All weights, bytes.</summary>
    public long TotalBytes => InputBytes + OutputBytes + LayerBytes.Sum();

    /// <summary>Groups the tensors of a model. Tensors of unknown type count 0 bytes (the reader flags such files).</summary>
    public static WeightsEstimate From(IReadOnlyList<GgufTensorInfo> tensors, int layerCount, int skippedLayers = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var layers = new long[layerCount];
        var experts = new long[layerCount];
        long input = 0, output = 0, tokenEmbedding = 0;
        var hasOutputMatrix = false;
        foreach (var t in tensors)
        {
            var bytes = t.ByteSize ?? 0;
            if (TryLayer(t.Name, out var il) && il < layerCount)
            {
                if (il >= layerCount - skippedLayers && !IsQkvBias(t.Name))
                {
                    // NextN / multi-token-prediction blocks: llama.cpp creates them with TENSOR_SKIP, no memory,
                    // except the Q/K/V biases, which its shared attention helper creates without that flag.
                    continue;
                }

                layers[il] += bytes;
                if (t.Name.Contains("_exps", StringComparison.Ordinal))
                {
                    experts[il] += bytes;
                }
            }
            else if (t.Name.StartsWith("output", StringComparison.Ordinal))
            {
                output += bytes;
                hasOutputMatrix |= t.Name == "output.weight";
            }
            else
            {
                input += bytes;
                if (t.Name == "token_embd.weight")
                {
                    tokenEmbedding = bytes;
                }
            }
        }

        return new WeightsEstimate(input, output, hasOutputMatrix ? 0 : tokenEmbedding, layers, experts);
    }

    private static bool IsQkvBias(string name) =>
        name.EndsWith(".attn_q.bias", StringComparison.Ordinal) || name.EndsWith(".attn_k.bias", StringComparison.Ordinal) || name.EndsWith(".attn_v.bias", StringComparison.Ordinal);

    internal static bool TryLayer(string name, out int layer)
    {
        layer = -1;
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
        {
            return false;
        }

        var end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), NumberStyles.None, CultureInfo.InvariantCulture, out layer);
    }
}

using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>
/// What one token asks of the weights, per layer: the parameters it multiplies (2 FLOPs each) and the bytes it
/// reads. A MoE block's token touches only its routed experts (expert_used_count of expert_count), shared experts and
/// attention in full; the input embedding is a row lookup (no work); the output matrix is read whole, and with tied
/// embeddings that matrix is token_embd.
/// </summary>
public sealed class TokenWork
{
    private TokenWork(long[] dense, long[] experts, long output, double expertShare, QuantFamily family)
    {
        LayerDenseParameters = dense;
        LayerExpertParameters = experts;
        OutputParameters = output;
        ExpertShare = expertShare;
        Family = family;
    }

    /// <summary>Parameters of each block outside its routed experts (attention, norms, dense or shared FFN).</summary>
    public IReadOnlyList<long> LayerDenseParameters { get; }

    /// <summary>Parameters of each block's routed experts, all of them.</summary>
    public IReadOnlyList<long> LayerExpertParameters { get; }

    /// <summary>Parameters of the output layer's matrix (token_embd when tied).</summary>
    public long OutputParameters { get; }

    /// <summary>The share of a block's experts one token uses: expert_used_count / expert_count; 1 for dense models.</summary>
    public double ExpertShare { get; }

    /// <summary>The family of the type that holds most of the repeating blocks' bytes.</summary>
    public QuantFamily Family { get; }

    /// <summary>Parameters one token multiplies: dense parts, routed experts' share, output.</summary>
    public double ActiveParameters => LayerDenseParameters.Sum() + (LayerExpertParameters.Sum() * ExpertShare) + OutputParameters;

    /// <summary>Reads the tensor table once.</summary>
    public static TokenWork From(IReadOnlyList<GgufTensorInfo> tensors, LlamaCppModelShape shape, int? expertCount)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(shape);
        var n = shape.LayerCount;
        var skippedFrom = n - shape.NextNLayerCount;
        var dense = new long[n];
        var experts = new long[n];
        long output = 0, tokenEmbedding = 0;
        var hasOutputMatrix = false;
        var bytesByFamily = new Dictionary<QuantFamily, long>();
        foreach (var t in tensors)
        {
            if (t.Dimensions.Count < 2)
            {
                // Norms and biases: no multiply worth counting.
                continue;
            }

            if (WeightsEstimate.TryLayer(t.Name, out var il) && il < n)
            {
                if (il >= skippedFrom)
                {
                    continue;
                }

                if (t.Name.Contains("_exps", StringComparison.Ordinal))
                {
                    experts[il] += t.ElementCount;
                }
                else
                {
                    dense[il] += t.ElementCount;
                }

                var family = QuantFamilies.Of(t.Type);
                bytesByFamily[family] = bytesByFamily.GetValueOrDefault(family) + (t.ByteSize ?? 0);
            }
            else if (t.Name == "output.weight")
            {
                output += t.ElementCount;
                hasOutputMatrix = true;
            }
            else if (t.Name == "token_embd.weight")
            {
                tokenEmbedding = t.ElementCount;
            }
        }

        var share = expertCount is > 0 && shape.ExpertsUsed > 0 ? Math.Min(1.0, shape.ExpertsUsed / (double)expertCount.Value) : 1.0;
        var dominant = bytesByFamily.Count == 0 ? QuantFamily.Unquantised : bytesByFamily.MaxBy(p => p.Value).Key;
        return new TokenWork(dense, experts, hasOutputMatrix ? output : tokenEmbedding, share, dominant);
    }
}

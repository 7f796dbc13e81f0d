namespace Gryphgen.Core.Gguf;

/// <summary>
/// The tensor tables of the architectures that are not plain llama blocks: hybrid attention + recurrent models
/// (qwen3next, qwen35, qwen35moe, granitehybrid, nemotron_h, lfm2, lfm2moe), multi-head latent attention
/// (deepseek2) and GLM-4.5's NextN block (glm4moe). Names and ggml-order shapes are those llama.cpp's load_tensors
/// asks for, so LLamaSharp 0.30.0's llama.cpp loads every file written here.
/// </summary>
public static partial class GgufModelBuilder
{
    private static readonly HashSet<string> QwenHybrid = new(StringComparer.Ordinal) { "qwen3next", "qwen35", "qwen35moe" };

    private static void AddArchitectureMetadata(GgufWriter w, GgufModelShape s)
    {
        var arch = s.Architecture;
        if (s.Ssm is { } ssm)
        {
            if (arch is "lfm2" or "lfm2moe")
            {
                w.SetUInt32($"{arch}.shortconv.l_cache", (uint)ssm.ConvKernel);
            }
            else
            {
                w.SetUInt32($"{arch}.ssm.conv_kernel", (uint)ssm.ConvKernel)
                    .SetUInt32($"{arch}.ssm.state_size", (uint)ssm.StateSize)
                    .SetUInt32($"{arch}.ssm.group_count", (uint)ssm.GroupCount)
                    .SetUInt32($"{arch}.ssm.time_step_rank", (uint)ssm.TimeStepRank)
                    .SetUInt32($"{arch}.ssm.inner_size", (uint)ssm.InnerSize);
            }
        }

        if (s.FullAttentionInterval > 0)
        {
            w.SetUInt32($"{arch}.full_attention_interval", (uint)s.FullAttentionInterval);
        }

        if (s.NextNLayerCount > 0)
        {
            w.SetUInt32($"{arch}.nextn_predict_layers", (uint)s.NextNLayerCount);
        }

        if (s.Mla is { } mla)
        {
            if (mla.QLoraRank > 0)
            {
                w.SetUInt32($"{arch}.attention.q_lora_rank", (uint)mla.QLoraRank);
            }

            w.SetUInt32($"{arch}.attention.kv_lora_rank", (uint)mla.KvLoraRank)
                .SetUInt32($"{arch}.attention.key_length", (uint)(mla.KvLoraRank + mla.RopeHeadDimension))
                .SetUInt32($"{arch}.attention.value_length", (uint)mla.KvLoraRank)
                .SetUInt32($"{arch}.attention.key_length_mla", (uint)(mla.NopeHeadDimension + mla.RopeHeadDimension))
                .SetUInt32($"{arch}.attention.value_length_mla", (uint)mla.ValueHeadDimension)
                .SetUInt32($"{arch}.rope.dimension_count", (uint)mla.RopeHeadDimension);
        }

        if (s.SlidingWindowPattern is { } pattern)
        {
            w.SetArray($"{arch}.attention.sliding_window_pattern", GgufValueType.Bool, pattern.ToArray());
        }

        if (s.KeyLengthSwa is { } kSwa)
        {
            w.SetUInt32($"{arch}.attention.key_length_swa", (uint)kSwa)
                .SetUInt32($"{arch}.attention.value_length_swa", (uint)(s.ValueLengthSwa ?? kSwa));
        }

        foreach (var (key, value) in s.ExtraMetadata ?? new Dictionary<string, object>())
        {
            var name = key.Replace("{arch}", arch, StringComparison.Ordinal);
            _ = value switch
            {
                uint u => w.SetUInt32(name, u),
                int i => w.SetUInt32(name, (uint)i),
                float f => w.SetFloat32(name, f),
                bool b => w.SetBool(name, b),
                string str => w.SetString(name, str),
                int[] ints => w.SetArray(name, GgufValueType.Int32, ints),
                uint[] uints => w.SetArray(name, GgufValueType.UInt32, uints),
                float[] floats => w.SetArray(name, GgufValueType.Float32, floats),
                bool[] bools => w.SetArray(name, GgufValueType.Bool, bools),
                _ => throw new ArgumentException($"Metadata '{key}' has a type the builder does not write: {value.GetType().Name}.", nameof(s)),
            };
        }
    }

    private static bool TryAddArchitectureTensors(GgufWriter w, GgufModelShape s, string mix)
    {
        var arch = s.Architecture;
        if (!QwenHybrid.Contains(arch) && arch is not ("granitehybrid" or "nemotron_h" or "lfm2" or "lfm2moe" or "deepseek2" or "glm4moe" or "gemma4" or "gemma3" or "gpt-oss" or "llama4" or "minimax-m2"))
        {
            return false;
        }

        var t = new TensorTable(w, s, mix);
        t.Add("token_embd.weight", "token_embd", -1, s.EmbeddingLength, s.VocabularySize);
        if (arch is "lfm2" or "lfm2moe")
        {
            t.Norm("token_embd_norm.weight", s.EmbeddingLength);
        }

        if (arch == "gemma4")
        {
            // Proportional rope of the full-attention layers: one factor per rotary pair of a full head.
            t.Norm("rope_freqs.weight", s.HeadDimension / 2);
        }

        for (var il = 0; il < s.BlockCount; il++)
        {
            var p = $"blk.{il}.";
            t.Norm(p + "attn_norm.weight", s.EmbeddingLength);
            switch (arch)
            {
                case "gemma3":
                    t.Attention(p, il, gatedQuery: false);
                    t.Norm(p + "post_attention_norm.weight", s.EmbeddingLength);
                    t.Norm(p + "ffn_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, moe: false);
                    t.Norm(p + "post_ffw_norm.weight", s.EmbeddingLength);
                    break;
                case "gpt-oss":
                    t.Attention(p, il, gatedQuery: false, bias: true);
                    t.Norm(p + "attn_output.bias", s.EmbeddingLength);
                    t.Norm(p + "attn_sinks.weight", s.HeadCount);
                    t.Norm(p + "post_attention_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, moe: true);
                    break;
                case "llama4" or "minimax-m2":
                    t.Attention(p, il, gatedQuery: false);
                    t.Norm(p + "ffn_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, moe: true);
                    break;
                case "gemma4":
                    t.Gemma4Attention(p, il);
                    t.Norm(p + "post_attention_norm.weight", s.EmbeddingLength);
                    t.Norm(p + "ffn_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, moe: false);
                    t.Norm(p + "post_ffw_norm.weight", s.EmbeddingLength);
                    break;
                case "qwen3next" or "qwen35" or "qwen35moe":
                    if ((il + 1) % s.FullAttentionInterval == 0)
                    {
                        t.Attention(p, il, gatedQuery: true);
                    }
                    else
                    {
                        t.GatedDeltaNet(p, il, splitBetaAlpha: arch != "qwen3next");
                    }

                    t.Norm(p + "post_attention_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, s.ExpertCount > 0);
                    break;
                case "granitehybrid":
                    if (s.KvHeadsOf(il) == 0)
                    {
                        t.Mamba2(p, il);
                    }
                    else
                    {
                        t.Attention(p, il, gatedQuery: false);
                    }

                    t.Norm(p + "ffn_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, s.ExpertCount > 0);
                    break;
                case "nemotron_h":
                    if (s.KvHeadsOf(il) > 0)
                    {
                        t.Attention(p, il, gatedQuery: false);
                    }
                    else if (s.FeedForwardOf(il) > 0)
                    {
                        t.Add(p + "ffn_up.weight", "ffn_up", il, s.EmbeddingLength, s.FeedForwardOf(il));
                        t.Add(p + "ffn_down.weight", "ffn_down", il, s.FeedForwardOf(il), s.EmbeddingLength);
                    }
                    else
                    {
                        t.Mamba2(p, il);
                    }

                    break;
                case "lfm2" or "lfm2moe":
                    if (s.KvHeadsOf(il) > 0)
                    {
                        t.Attention(p, il, gatedQuery: false);
                    }
                    else
                    {
                        t.ShortConvolution(p, il);
                    }

                    t.Norm(p + "ffn_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, s.ExpertCount > 0 && il >= s.LeadingDenseBlockCount);
                    break;
                case "deepseek2":
                    t.LatentAttention(p, il);
                    t.Norm(p + "ffn_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, il >= s.LeadingDenseBlockCount);
                    break;
                default:
                    t.Attention(p, il, gatedQuery: false, bias: true);
                    t.Norm(p + "post_attention_norm.weight", s.EmbeddingLength);
                    t.FeedForward(p, il, il >= s.LeadingDenseBlockCount);
                    if (il >= s.BlockCount - s.NextNLayerCount)
                    {
                        t.Add(p + "nextn.eh_proj.weight", "ffn_down", il, 2L * s.EmbeddingLength, s.EmbeddingLength);
                        t.Norm(p + "nextn.enorm.weight", s.EmbeddingLength);
                        t.Norm(p + "nextn.hnorm.weight", s.EmbeddingLength);
                        t.Norm(p + "nextn.shared_head_norm.weight", s.EmbeddingLength);
                    }

                    break;
            }
        }

        if (arch is not ("lfm2" or "lfm2moe"))
        {
            // LFM2 stores its final norm as token_embd_norm (added above), not output_norm.
            t.Norm("output_norm.weight", s.EmbeddingLength);
        }

        if (!s.TiedOutput)
        {
            t.Add("output.weight", "output", -1, s.EmbeddingLength, s.VocabularySize);
        }

        return true;
    }

    /// <summary>Adds one model's tensors with the file type's quantisation mix.</summary>
    private sealed class TensorTable(GgufWriter writer, GgufModelShape shape, string mix)
    {
        public void Add(string name, string role, int layer, params long[] dimensions) =>
            writer.AddTensor(name, Pick(mix, role, dimensions[0], Math.Max(0, layer), shape.BlockCount), dimensions);

        public void Norm(string name, params long[] dimensions) => writer.AddTensor(name, GgmlType.F32, dimensions);

        public void Attention(string p, int il, bool gatedQuery, bool bias = false)
        {
            long embd = shape.EmbeddingLength, k = shape.HeadDimension, v = shape.ValueDimension;
            long heads = shape.HeadCount, kvHeads = shape.KvHeadsOf(il);
            Add(p + "attn_q.weight", "attn_q", il, embd, k * heads * (gatedQuery ? 2 : 1));
            Add(p + "attn_k.weight", "attn_k", il, embd, k * kvHeads);
            Add(p + "attn_v.weight", "attn_v", il, embd, v * kvHeads);
            Add(p + "attn_output.weight", "attn_output", il, v * heads, embd);
            if (bias)
            {
                Norm(p + "attn_q.bias", k * heads);
                Norm(p + "attn_k.bias", k * kvHeads);
                Norm(p + "attn_v.bias", v * kvHeads);
            }

            if (shape.QkNorm && shape.Architecture == "minimax-m2")
            {
                // MiniMax-M2 normalises the whole Q and K projections, not each head.
                Norm(p + "attn_q_norm.weight", k * heads);
                Norm(p + "attn_k_norm.weight", k * kvHeads);
            }
            else if (shape.QkNorm)
            {
                Norm(p + "attn_q_norm.weight", k);
                Norm(p + "attn_k_norm.weight", k);
            }
        }

        public void FeedForward(string p, int il, bool moe)
        {
            long embd = shape.EmbeddingLength;
            if (!moe)
            {
                long ff = shape.FeedForwardOf(il);
                Add(p + "ffn_gate.weight", "ffn_gate", il, embd, ff);
                Add(p + "ffn_down.weight", "ffn_down", il, ff, embd);
                Add(p + "ffn_up.weight", "ffn_up", il, embd, ff);
                return;
            }

            long experts = shape.ExpertCount, ffExp = shape.ExpertWidth;
            Norm(p + "ffn_gate_inp.weight", embd, experts);
            if (shape.Architecture is "deepseek2" or "glm4moe" or "lfm2moe" or "minimax-m2")
            {
                Norm(p + "exp_probs_b.bias", experts);
            }

            Add(p + "ffn_gate_exps.weight", "ffn_gate_exps", il, embd, ffExp, experts);
            Add(p + "ffn_down_exps.weight", "ffn_down_exps", il, ffExp, embd, experts);
            Add(p + "ffn_up_exps.weight", "ffn_up_exps", il, embd, ffExp, experts);
            if (shape.Architecture == "gpt-oss")
            {
                Norm(p + "ffn_gate_inp.bias", experts);
                Norm(p + "ffn_gate_exps.bias", ffExp, experts);
                Norm(p + "ffn_down_exps.bias", embd, experts);
                Norm(p + "ffn_up_exps.bias", ffExp, experts);
            }
            if (shape.ExpertSharedCount > 0 || shape.SharedExpertFeedForwardLength > 0)
            {
                long ffShared = shape.SharedExpertFeedForwardLength > 0 ? shape.SharedExpertFeedForwardLength : ffExp * shape.ExpertSharedCount;
                if (QwenHybrid.Contains(shape.Architecture))
                {
                    Norm(p + "ffn_gate_inp_shexp.weight", embd);
                }

                Add(p + "ffn_gate_shexp.weight", "ffn_gate", il, embd, ffShared);
                Add(p + "ffn_down_shexp.weight", "ffn_down", il, ffShared, embd);
                Add(p + "ffn_up_shexp.weight", "ffn_up", il, embd, ffShared);
            }
        }

        /// <summary>
        /// Gemma 4's attention: sliding layers with their own (narrower) heads and V; full layers with wider heads
        /// whose V is K itself (attention_k_eq_v), so they have no attn_v.
        /// </summary>
        public void Gemma4Attention(string p, int il)
        {
            var sliding = shape.SlidingWindowPattern?[il] ?? false;
            long embd = shape.EmbeddingLength, heads = shape.HeadCount, kvHeads = shape.KvHeadsOf(il);
            long head = sliding ? shape.KeyLengthSwa ?? shape.HeadDimension : shape.HeadDimension;
            Add(p + "attn_q.weight", "attn_q", il, embd, head * heads);
            Add(p + "attn_k.weight", "attn_k", il, embd, head * kvHeads);
            if (sliding)
            {
                Add(p + "attn_v.weight", "attn_v", il, embd, head * kvHeads);
            }

            Add(p + "attn_output.weight", "attn_output", il, head * heads, embd);
            Norm(p + "attn_q_norm.weight", head);
            Norm(p + "attn_k_norm.weight", head);
        }

        /// <summary>Qwen3-Next's gated delta-net block.</summary>
        public void GatedDeltaNet(string p, int il, bool splitBetaAlpha)
        {
            var ssm = shape.Ssm ?? throw new InvalidOperationException("A gated delta-net model needs Ssm sizes.");
            long embd = shape.EmbeddingLength;
            long keyDim = (long)ssm.StateSize * ssm.GroupCount, valueDim = ssm.InnerSize, heads = ssm.TimeStepRank;
            var convDim = (2 * keyDim) + valueDim;
            Add(p + "attn_qkv.weight", "attn_qkv", il, embd, convDim);
            Add(p + "attn_gate.weight", "attn_gate", il, embd, valueDim);
            Norm(p + "ssm_conv1d.weight", ssm.ConvKernel, convDim);
            Norm(p + "ssm_dt.bias", heads);
            Norm(p + "ssm_a", heads);
            if (splitBetaAlpha)
            {
                Add(p + "ssm_beta.weight", "ssm_beta", il, embd, heads);
                Add(p + "ssm_alpha.weight", "ssm_alpha", il, embd, heads);
            }
            else
            {
                Add(p + "ssm_ba.weight", "ssm_ba", il, embd, 2 * heads);
            }

            Norm(p + "ssm_norm.weight", valueDim / heads);
            Add(p + "ssm_out.weight", "ssm_out", il, valueDim, embd);
        }

        /// <summary>A Mamba-2 block (granitehybrid, nemotron_h).</summary>
        public void Mamba2(string p, int il)
        {
            var ssm = shape.Ssm ?? throw new InvalidOperationException("A Mamba-2 model needs Ssm sizes.");
            long embd = shape.EmbeddingLength, inner = ssm.InnerSize, heads = ssm.TimeStepRank;
            var groupState = 2L * ssm.GroupCount * ssm.StateSize;
            Add(p + "ssm_in.weight", "ssm_in", il, embd, (2 * inner) + groupState + heads);
            Norm(p + "ssm_conv1d.weight", ssm.ConvKernel, inner + groupState);
            Norm(p + "ssm_conv1d.bias", inner + groupState);
            Norm(p + "ssm_dt.bias", heads);
            Norm(p + "ssm_a", 1, heads);
            Norm(p + "ssm_d", 1, heads);
            Norm(p + "ssm_norm.weight", inner / ssm.GroupCount, ssm.GroupCount);
            Add(p + "ssm_out.weight", "ssm_out", il, inner, embd);
        }

        /// <summary>LFM2's short-convolution block.</summary>
        public void ShortConvolution(string p, int il)
        {
            var ssm = shape.Ssm ?? throw new InvalidOperationException("An LFM2 model needs its convolution cache length.");
            long embd = shape.EmbeddingLength;
            Norm(p + "shortconv.conv.weight", ssm.ConvKernel, embd);
            Add(p + "shortconv.in_proj.weight", "shortconv_in", il, embd, 3 * embd);
            Add(p + "shortconv.out_proj.weight", "shortconv_out", il, embd, embd);
        }

        /// <summary>deepseek2's multi-head latent attention, with K's and V's up-projections stored apart (attn_k_b, attn_v_b).</summary>
        public void LatentAttention(string p, int il)
        {
            var mla = shape.Mla ?? throw new InvalidOperationException("A deepseek2 model needs Mla sizes.");
            long embd = shape.EmbeddingLength, heads = shape.HeadCount;
            long qk = mla.NopeHeadDimension + mla.RopeHeadDimension;
            if (mla.QLoraRank > 0)
            {
                Add(p + "attn_q_a.weight", "attn_q_a", il, embd, mla.QLoraRank);
                Norm(p + "attn_q_a_norm.weight", mla.QLoraRank);
                Add(p + "attn_q_b.weight", "attn_q_b", il, mla.QLoraRank, heads * qk);
            }
            else
            {
                Add(p + "attn_q.weight", "attn_q", il, embd, heads * qk);
            }

            Add(p + "attn_kv_a_mqa.weight", "attn_kv_a_mqa", il, embd, mla.KvLoraRank + mla.RopeHeadDimension);
            Norm(p + "attn_kv_a_norm.weight", mla.KvLoraRank);
            Add(p + "attn_k_b.weight", "attn_k_b", il, mla.NopeHeadDimension, mla.KvLoraRank, heads);
            Add(p + "attn_v_b.weight", "attn_v_b", il, mla.KvLoraRank, mla.ValueHeadDimension, heads);
            Add(p + "attn_output.weight", "attn_output", il, heads * mla.ValueHeadDimension, embd);
        }
    }
}

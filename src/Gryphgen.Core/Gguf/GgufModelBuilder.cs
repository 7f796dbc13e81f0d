namespace Gryphgen.Core.Gguf;

/// <summary>
/// Makes GGUF writers for llama-architecture models from a <see cref="GgufModelShape"/>: the metadata llama.cpp
/// reads (hyper-parameters, a SentencePiece-style vocabulary) and the tensor table with llama.cpp's names,
/// ggml-order shapes and the quantisation mix of the file type. The data is a hole: weights read as zeros.
/// Checked by hand with LLamaSharp 0.30.0 (llama.cpp, CPU backend): every <see cref="GgufModelShape"/> preset
/// loads, the sparse 8B one included (8 030 261 248 parameters, 4.9 GB apparent, 3 MB on disk).
/// </summary>
public static partial class GgufModelBuilder
{
    /// <summary>Writes the model to <paramref name="path"/> as a sparse file; returns its length.</summary>
    public static long Write(GgufModelShape shape, string path) => CreateWriter(shape).Write(path);

    public static GgufWriter CreateWriter(GgufModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.HeadCount <= 0 || (shape.KeyLength is null && shape.EmbeddingLength % shape.HeadCount != 0))
        {
            throw new ArgumentException("EmbeddingLength must be a multiple of HeadCount.", nameof(shape));
        }

        if (shape.HeadCountKvPerLayer is { } kv && kv.Count != shape.BlockCount)
        {
            throw new ArgumentException("HeadCountKvPerLayer needs one value per block.", nameof(shape));
        }

        var fileType = GgufFileType.GetId(shape.FileType) ?? throw new ArgumentException($"Unknown file type '{shape.FileType}'.", nameof(shape));
        var arch = shape.Architecture;
        var w = new GgufWriter();
        w.SetString("general.architecture", arch)
            .SetString("general.name", shape.Name)
            .SetUInt32("general.file_type", (uint)fileType)
            .SetUInt32("general.quantization_version", 2)
            .SetUInt32($"{arch}.vocab_size", (uint)shape.VocabularySize)
            .SetUInt32($"{arch}.context_length", (uint)shape.ContextLength)
            .SetUInt32($"{arch}.embedding_length", (uint)shape.EmbeddingLength)
            .SetUInt32($"{arch}.block_count", (uint)shape.BlockCount)
            .SetUInt32($"{arch}.rope.dimension_count", (uint)(shape.RopeDimensions ?? shape.HeadDimension))
            .SetUInt32($"{arch}.attention.head_count", (uint)shape.HeadCount)
            .SetFloat32($"{arch}.attention.layer_norm_rms_epsilon", shape.RmsNormEpsilon)
            .SetFloat32($"{arch}.rope.freq_base", shape.RopeFreqBase);
        if (shape.HeadCountKvPerLayer is { } perLayer)
        {
            w.SetArray($"{arch}.attention.head_count_kv", GgufValueType.Int32, perLayer.ToArray());
        }
        else
        {
            w.SetUInt32($"{arch}.attention.head_count_kv", (uint)shape.HeadCountKv);
        }

        if (shape.FeedForwardLengthPerLayer is { } ffPerLayer)
        {
            w.SetArray($"{arch}.feed_forward_length", GgufValueType.Int32, ffPerLayer.ToArray());
        }
        else
        {
            w.SetUInt32($"{arch}.feed_forward_length", (uint)shape.FeedForwardLength);
        }

        if (shape.KeyLength is { } keyLength)
        {
            w.SetUInt32($"{arch}.attention.key_length", (uint)keyLength)
                .SetUInt32($"{arch}.attention.value_length", (uint)shape.ValueDimension);
        }

        if (shape.ExpertCount > 0)
        {
            w.SetUInt32($"{arch}.expert_count", (uint)shape.ExpertCount)
                .SetUInt32($"{arch}.expert_used_count", (uint)shape.ExpertUsedCount);
            if (shape.ExpertFeedForwardLength > 0)
            {
                w.SetUInt32($"{arch}.expert_feed_forward_length", (uint)shape.ExpertFeedForwardLength);
            }

            if (shape.ExpertSharedCount > 0)
            {
                w.SetUInt32($"{arch}.expert_shared_count", (uint)shape.ExpertSharedCount);
            }

            if (shape.SharedExpertFeedForwardLength > 0)
            {
                w.SetUInt32($"{arch}.expert_shared_feed_forward_length", (uint)shape.SharedExpertFeedForwardLength);
            }

            if (shape.LeadingDenseBlockCount > 0)
            {
                w.SetUInt32($"{arch}.leading_dense_block_count", (uint)shape.LeadingDenseBlockCount);
            }
        }

        AddArchitectureMetadata(w, shape);

        if (shape.SlidingWindow is { } window)
        {
            w.SetUInt32($"{arch}.attention.sliding_window", (uint)window);
        }

        AddVocabulary(w, shape.VocabularySize);
        var mix = shape.FileType.ToUpperInvariant();
        if (!TryAddArchitectureTensors(w, shape, mix))
        {
            AddTensors(w, shape, mix);
        }

        return w;
    }

    /// <summary>A SentencePiece ("llama") vocabulary: unk, bos, eos, the 256 byte tokens, then filler pieces.</summary>
    private static void AddVocabulary(GgufWriter w, int size)
    {
        if (size < 259)
        {
            throw new ArgumentException("A llama vocabulary needs at least 259 tokens (3 control and 256 byte tokens).", nameof(size));
        }

        var tokens = new string[size];
        var types = new int[size];
        tokens[0] = "<unk>";
        types[0] = 2;
        tokens[1] = "<s>";
        types[1] = 3;
        tokens[2] = "</s>";
        types[2] = 3;
        for (var b = 0; b < 256; b++)
        {
            tokens[3 + b] = $"<0x{b:X2}>";
            types[3 + b] = 6;
        }

        for (var i = 259; i < size; i++)
        {
            tokens[i] = "\u2581t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            types[i] = 1;
        }

        w.SetString("tokenizer.ggml.model", "llama")
            .SetArray("tokenizer.ggml.tokens", GgufValueType.String, tokens)
            .SetArray("tokenizer.ggml.scores", GgufValueType.Float32, new float[size])
            .SetArray("tokenizer.ggml.token_type", GgufValueType.Int32, types)
            .SetUInt32("tokenizer.ggml.bos_token_id", 1)
            .SetUInt32("tokenizer.ggml.eos_token_id", 2)
            .SetUInt32("tokenizer.ggml.unknown_token_id", 0);
    }

    private static void AddTensors(GgufWriter w, GgufModelShape s, string fileType)
    {
        long embd = s.EmbeddingLength;
        long ff = s.FeedForwardLength;
        long headDim = s.HeadDimension;
        long vocab = s.VocabularySize;
        var n = s.BlockCount;

        w.AddTensor("token_embd.weight", Pick(fileType, "token_embd", embd, 0, n), embd, vocab);
        for (var i = 0; i < n; i++)
        {
            var p = $"blk.{i}.";
            long kvDim = s.KvHeadsOf(i) * headDim;
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, embd);
            w.AddTensor(p + "attn_q.weight", Pick(fileType, "attn_q", embd, i, n), embd, s.HeadCount * headDim);
            w.AddTensor(p + "attn_k.weight", Pick(fileType, "attn_k", embd, i, n), embd, kvDim);
            w.AddTensor(p + "attn_v.weight", Pick(fileType, "attn_v", embd, i, n), embd, kvDim);
            w.AddTensor(p + "attn_output.weight", Pick(fileType, "attn_output", s.HeadCount * headDim, i, n), s.HeadCount * headDim, embd);
            if (s.QkNorm)
            {
                w.AddTensor(p + "attn_q_norm.weight", GgmlType.F32, headDim);
                w.AddTensor(p + "attn_k_norm.weight", GgmlType.F32, headDim);
            }

            w.AddTensor(p + "ffn_norm.weight", GgmlType.F32, embd);
            if (s.ExpertCount > 0)
            {
                w.AddTensor(p + "ffn_gate_inp.weight", GgmlType.F32, embd, s.ExpertCount);
                long ffExp = s.ExpertWidth;
                w.AddTensor(p + "ffn_gate_exps.weight", Pick(fileType, "ffn_gate_exps", embd, i, n), embd, ffExp, s.ExpertCount);
                w.AddTensor(p + "ffn_down_exps.weight", Pick(fileType, "ffn_down_exps", ffExp, i, n), ffExp, embd, s.ExpertCount);
                w.AddTensor(p + "ffn_up_exps.weight", Pick(fileType, "ffn_up_exps", embd, i, n), embd, ffExp, s.ExpertCount);
            }
            else
            {
                w.AddTensor(p + "ffn_gate.weight", Pick(fileType, "ffn_gate", embd, i, n), embd, ff);
                w.AddTensor(p + "ffn_down.weight", Pick(fileType, "ffn_down", ff, i, n), ff, embd);
                w.AddTensor(p + "ffn_up.weight", Pick(fileType, "ffn_up", embd, i, n), embd, ff);
            }
        }

        w.AddTensor("output_norm.weight", GgmlType.F32, embd);
        if (!s.TiedOutput)
        {
            w.AddTensor("output.weight", Pick(fileType, "output", embd, 0, n), embd, vocab);
        }
    }

    /// <summary>
    /// The tensor type llama.cpp's quantiser would choose (llama-quant.cpp, simplified): for the _M mixes, Q6_K for
    /// output and for attn_v / ffn_down in the first and last eighth of the layers and every third layer between.
    /// A row length that is not a multiple of the block size falls back to Q8_0 or F16, as the quantiser does.
    /// </summary>
    internal static GgmlType Pick(string fileType, string role, long rowLength, int layer, int layers)
    {
        var moreBits = layer < layers / 8 || layer >= 7 * layers / 8 || (layer - (layers / 8)) % 3 == 2;
        var type = fileType switch
        {
            "F32" => GgmlType.F32,
            "F16" => GgmlType.F16,
            "BF16" => GgmlType.BF16,
            "Q8_0" => GgmlType.Q8_0,
            "Q4_0" => GgmlType.Q4_0,
            "Q4_1" => GgmlType.Q4_1,
            "Q5_0" => GgmlType.Q5_0,
            "Q5_1" => GgmlType.Q5_1,
            "Q2_K" or "Q2_K_S" => role == "output" ? GgmlType.Q6_K : GgmlType.Q2_K,
            "Q3_K_S" or "Q3_K_M" or "Q3_K_L" => role == "output" ? GgmlType.Q6_K : GgmlType.Q3_K,
            "Q4_K_S" => role == "output" ? GgmlType.Q6_K : GgmlType.Q4_K,
            "Q4_K_M" => role == "output" || (role is "attn_v" or "ffn_down" or "ffn_down_exps" && moreBits) ? GgmlType.Q6_K : GgmlType.Q4_K,
            "Q5_K_S" => role == "output" ? GgmlType.Q6_K : GgmlType.Q5_K,
            "Q5_K_M" => role == "output" || (role is "attn_v" or "ffn_down" or "ffn_down_exps" && moreBits) ? GgmlType.Q6_K : GgmlType.Q5_K,
            "Q6_K" => GgmlType.Q6_K,
            "IQ4_XS" => role == "output" ? GgmlType.Q6_K : GgmlType.IQ4_XS,
            "IQ4_NL" => GgmlType.IQ4_NL,
            "MXFP4_MOE" => role.EndsWith("_exps", StringComparison.Ordinal) ? GgmlType.MXFP4 : GgmlType.Q8_0,
            "TQ1_0" => GgmlType.TQ1_0,
            "TQ2_0" => GgmlType.TQ2_0,
            _ => throw new ArgumentException($"The model builder has no tensor mix for file type '{fileType}'.", nameof(fileType)),
        };

        var info = GgmlTypes.Get(type);
        if (rowLength % info.BlockSize == 0)
        {
            return type;
        }

        return rowLength % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F16;
    }
}

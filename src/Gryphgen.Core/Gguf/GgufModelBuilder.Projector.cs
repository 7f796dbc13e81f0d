namespace Gryphgen.Core.Gguf;

/// <summary>Vision projectors (mmproj files): the clip keys and tensor table llama.cpp's mtmd loads.</summary>
public static partial class GgufModelBuilder
{
    private static readonly float[] SiglipNormalisation = [0.5f, 0.5f, 0.5f];

    /// <summary>Writes the projector to <paramref name="path"/> as a sparse file; returns its length.</summary>
    public static long Write(GgufProjectorShape shape, string path) => CreateWriter(shape).Write(path);

    public static GgufWriter CreateWriter(GgufProjectorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long embd = shape.EmbeddingLength, ff = shape.FeedForwardLength, patch = shape.PatchSize;
        var patches = (long)(shape.ImageSize / shape.PatchSize) * (shape.ImageSize / shape.PatchSize);
        var w = new GgufWriter();
        w.SetString("general.architecture", "clip")
            .SetString("general.name", shape.Name)
            .SetUInt32("general.file_type", 1)
            .SetString("clip.projector_type", shape.ProjectorType)
            .SetBool("clip.has_vision_encoder", true)
            .SetBool("clip.use_gelu", true)
            .SetUInt32("clip.vision.image_size", (uint)shape.ImageSize)
            .SetUInt32("clip.vision.patch_size", (uint)shape.PatchSize)
            .SetUInt32("clip.vision.embedding_length", (uint)embd)
            .SetUInt32("clip.vision.feed_forward_length", (uint)ff)
            .SetUInt32("clip.vision.block_count", (uint)shape.BlockCount)
            .SetUInt32("clip.vision.attention.head_count", (uint)shape.HeadCount)
            .SetFloat32("clip.vision.attention.layer_norm_epsilon", 1e-6f)
            .SetUInt32("clip.vision.projection_dim", (uint)shape.ProjectionDimension)
            .SetArray("clip.vision.image_mean", GgufValueType.Float32, SiglipNormalisation)
            .SetArray("clip.vision.image_std", GgufValueType.Float32, SiglipNormalisation);
        var type = shape.WeightType;
        w.AddTensor("v.patch_embd.weight", GgmlType.F16, patch, patch, 3, embd)
            .AddTensor("v.patch_embd.bias", GgmlType.F32, embd)
            .AddTensor("v.position_embd.weight", GgmlType.F16, embd, patches);
        for (var il = 0; il < shape.BlockCount; il++)
        {
            var p = $"v.blk.{il}.";
            foreach (var name in new[] { "attn_q", "attn_k", "attn_v", "attn_out" })
            {
                w.AddTensor(p + name + ".weight", type, embd, embd).AddTensor(p + name + ".bias", GgmlType.F32, embd);
            }

            w.AddTensor(p + "ln1.weight", GgmlType.F32, embd).AddTensor(p + "ln1.bias", GgmlType.F32, embd)
                .AddTensor(p + "ln2.weight", GgmlType.F32, embd).AddTensor(p + "ln2.bias", GgmlType.F32, embd)
                .AddTensor(p + "ffn_up.weight", type, embd, ff).AddTensor(p + "ffn_up.bias", GgmlType.F32, ff)
                .AddTensor(p + "ffn_down.weight", type, ff, embd).AddTensor(p + "ffn_down.bias", GgmlType.F32, embd);
        }

        w.AddTensor("v.post_ln.weight", GgmlType.F32, embd).AddTensor("v.post_ln.bias", GgmlType.F32, embd)
            .AddTensor("mm.input_projection.weight", type, shape.ProjectionDimension, embd)
            .AddTensor("mm.soft_emb_norm.weight", GgmlType.F32, embd);
        return w;
    }
}

using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>Cache shapes that the builder's presets cannot load in llama.cpp: MLA (deepseek2) and recurrent state (mamba).</summary>
public sealed class ModelShapeTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gryph-shape-" + Guid.NewGuid().ToString("N"));

    public ModelShapeTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private GgufModel Read(GgufWriter writer, string name)
    {
        var path = Path.Combine(_folder, name + ".gguf");
        writer.Write(path);
        return new GgufModel([GgufHeaderReader.Read(path)]);
    }

    [Fact]
    public void Deepseek2_CachesTheLatentAndRopePart_NotFullHeads()
    {
        // As llama.cpp's converter writes MLA: key_length = kv_lora_rank + rope, value_length = kv_lora_rank, one
        // KV head, and the per-head sizes in key_length_mla / value_length_mla. llama.cpp caches K only (V is a
        // view of the latent part of each K row).
        var w = new GgufWriter().SetString("general.architecture", "deepseek2")
            .SetUInt32("deepseek2.block_count", 2).SetUInt32("deepseek2.embedding_length", 2048)
            .SetUInt32("deepseek2.attention.head_count", 16).SetUInt32("deepseek2.attention.head_count_kv", 1)
            .SetUInt32("deepseek2.attention.key_length", 576).SetUInt32("deepseek2.attention.value_length", 512)
            .SetUInt32("deepseek2.attention.key_length_mla", 192).SetUInt32("deepseek2.attention.value_length_mla", 128)
            .SetUInt32("deepseek2.attention.kv_lora_rank", 512).SetUInt32("deepseek2.rope.dimension_count", 64)
            .AddTensor("blk.0.attn_norm.weight", GgmlType.F32, 2048).AddTensor("blk.1.attn_norm.weight", GgmlType.F32, 2048);
        var shape = LlamaCppModelShape.From(Read(w, "mla"));
        Assert.True(shape.IsMla);
        Assert.Equal([576L, 576L], shape.KeyWidth);
        var kv = KvCacheEstimate.From(shape, new LlamaCppSettings { ContextLength = 4096 });
        Assert.Equal(4096L * 576 * 2, kv.LayerKeyBytes[0]);
        Assert.Equal(0, kv.LayerValueBytes[0]);
    }

    [Fact]
    public void Mamba_HoldsF32StatePerSequence_NotPerToken()
    {
        var w = new GgufWriter().SetString("general.architecture", "mamba")
            .SetUInt32("mamba.block_count", 4).SetUInt32("mamba.embedding_length", 768)
            .SetUInt32("mamba.ssm.conv_kernel", 4).SetUInt32("mamba.ssm.inner_size", 1536).SetUInt32("mamba.ssm.state_size", 16)
            .AddTensor("blk.0.norm.weight", GgmlType.F32, 768).AddTensor("blk.1.norm.weight", GgmlType.F32, 768)
            .AddTensor("blk.2.norm.weight", GgmlType.F32, 768).AddTensor("blk.3.norm.weight", GgmlType.F32, 768);
        var shape = LlamaCppModelShape.From(Read(w, "mamba"));
        var one = KvCacheEstimate.From(shape, new LlamaCppSettings { ContextLength = 4096 });
        var longer = KvCacheEstimate.From(shape, new LlamaCppSettings { ContextLength = 32768, Parallel = 2 });
        Assert.Equal(((3L * 1536) + (16L * 1536)) * 4, one.LayerStateBytes[0]);
        Assert.Equal(2 * one.TotalBytes, longer.TotalBytes);
        Assert.All(one.LayerKeyBytes, b => Assert.Equal(0, b));
    }
}

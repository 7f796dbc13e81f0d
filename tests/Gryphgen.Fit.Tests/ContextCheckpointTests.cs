using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// llama-server keeps up to --ctx-checkpoints (32) copies per slot of a sequence's partial state for models whose
/// cache cannot be cut back: the host memory they take is counted, one checkpoint as large as llama.cpp's own
/// llama_state_seq_get_size_ext(PARTIAL_ONLY) for that sequence.
/// </summary>
public sealed class ContextCheckpointTests : SparseModelFolder
{
    /// <summary>A small gated delta-net hybrid (Qwen3.5's layout, narrow), so one decoded token costs nothing.</summary>
    private static readonly GgufModelShape SmallHybrid = ReleasedModelShapes.Qwen35Dense27B with
    {
        Name = "small hybrid",
        BlockCount = 8,
        EmbeddingLength = 256,
        FeedForwardLength = 512,
        HeadCount = 4,
        HeadCountKv = 2,
        KeyLength = 64,
        ValueLength = 64,
        RopeDimensions = 16,
        VocabularySize = 512,
        ContextLength = 4096,
        FileType = "F16",
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 32, GroupCount = 4, TimeStepRank = 8, InnerSize = 256 },
    };

    [SkippableFact]
    public void OneCheckpoint_IsWhatLlamaCppSavesOfASequence_AndServerPlansCountThirtyTwoPerSlot()
    {
        var path = Path.Combine(Folder, "hybrid.gguf");
        GgufModelBuilder.Write(SmallHybrid, path);
        var measured = LlamaCppLoadLog.PartialStateOfOneDecodedToken(path, 1024);
        var settings = new LlamaCppSettings { ContextLength = 1024 };
        var kv = KvCacheEstimate.From(LlamaCppModelShape.From(new GgufModel([GgufHeaderReader.Read(path)])), settings);
        // llama.cpp adds a few bytes of cell and layer headers to the tensors' data.
        Assert.InRange(measured - kv.CheckpointBytes, 0, 4096);

        var cost = new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)]));
        Assert.Equal(32 * 2 * kv.CheckpointBytes, cost.Estimate(settings with { Parallel = 2 }, cost.TotalLayers).HostCheckpointBytes);
        Assert.Equal(0, cost.Estimate(settings with { ContextCheckpoints = 0 }, cost.TotalLayers).HostCheckpointBytes);
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "g", TotalBytes = 1L << 34, FreeBytes = 1L << 34 }] };
        Assert.Contains("--ctx-checkpoints 4", FitPlanner.Plan(cost, settings with { ContextCheckpoints = 4 }, target, maxContext: false).LlamaCppArguments, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsWhoseCacheCanBeCutBack_AreNeverCheckpointed()
    {
        var path = Path.Combine(Folder, "dense.gguf");
        GgufModelBuilder.Write(GgufModelShape.DenseLlama8B, path);
        var cost = new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)]));
        Assert.Equal(0, cost.Estimate(new LlamaCppSettings(), cost.TotalLayers).HostCheckpointBytes);
    }
}

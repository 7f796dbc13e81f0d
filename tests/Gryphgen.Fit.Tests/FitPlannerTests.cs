using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>Properties of the plans that must hold whatever the model: monotonic in context and in memory.</summary>
public sealed class FitPlannerTests : SparseModelFolder
{
    private const long MiB = 1024 * 1024;
    private static GgufModelShape RandomShape(Random rng)
    {
        var heads = 1 << rng.Next(0, 4);
        var headDim = 64 * rng.Next(1, 3);
        var kvHeads = Math.Max(1, heads >> rng.Next(0, 3));
        var moe = rng.Next(4) == 0;
        return new GgufModelShape
        {
            BlockCount = rng.Next(1, 12),
            EmbeddingLength = heads * headDim,
            HeadCount = heads,
            HeadCountKv = kvHeads,
            FeedForwardLength = 256 * rng.Next(1, 8),
            VocabularySize = 256 * rng.Next(1, 64),
            ContextLength = 1024 * rng.Next(1, 9),
            ExpertCount = moe ? 4 : 0,
            ExpertUsedCount = moe ? 2 : 0,
            FileType = rng.Next(2) == 0 ? "Q4_K_M" : "F16",
        };
    }

    [Fact]
    public void Plans_AreMonotonicInContextAndMemory()
    {
        var rng = new Random(6);
        for (var m = 0; m < 25; m++)
        {
            var cost = new LlamaCppModelCost(Write(RandomShape(rng), "m" + m));
            for (var trial = 0; trial < 12; trial++)
            {
                var settings = new LlamaCppSettings
                {
                    CacheTypeK = (KvCacheType)rng.Next(8),
                    CacheTypeV = (KvCacheType)rng.Next(8),
                    FlashAttention = rng.Next(2) == 0,
                    UBatchSize = 128 * rng.Next(1, 5),
                    Parallel = rng.Next(1, 3),
                    DeviceOverheadBytes = rng.Next(0, 400) * MiB,
                };
                var gpus = rng.Next(1, 3);
                long small = rng.Next(1, 1500) * MiB, large = small + (rng.Next(1, 1500) * MiB);
                FitTarget Target(long bytes) => new()
                {
                    Gpus = Enumerable.Range(0, gpus).Select(i => new GpuTarget { Name = "g" + i, TotalBytes = bytes * (i + 1), FreeBytes = bytes * (i + 1) }).ToArray(),
                    HeadroomBytes = 0,
                };

                int c1 = rng.Next(1, 8192), c2 = c1 + rng.Next(1, 8192);
                var s1 = settings with { ContextLength = c1 };
                var s2 = settings with { ContextLength = c2 };

                // More memory never means fewer layers, nor a smaller largest context.
                Assert.True(FitPlanner.MaxLayers(cost, s1, Target(small)) <= FitPlanner.MaxLayers(cost, s1, Target(large)), $"model {m} trial {trial}: layers fell with more memory");
                Assert.True((FitPlanner.MaxFullContext(cost, settings, Target(small)) ?? 0) <= (FitPlanner.MaxFullContext(cost, settings, Target(large)) ?? 0), $"model {m} trial {trial}: max context fell with more memory");

                // A larger context never fits (or gets more layers) where a smaller one failed.
                var l1 = FitPlanner.MaxLayers(cost, s1, Target(small));
                var l2 = FitPlanner.MaxLayers(cost, s2, Target(small));
                Assert.True(l2 <= l1, $"model {m} trial {trial}: context {c2} got {l2} layers, context {c1} only {l1}");

                // The largest context reported fits fully; one padding step more does not (below the trained context).
                if (FitPlanner.MaxFullContext(cost, settings, Target(small)) is { } max)
                {
                    Assert.Equal(cost.TotalLayers, FitPlanner.MaxLayers(cost, settings with { ContextLength = max }, Target(small)));
                    if (max + 256 <= (cost.Shape.TrainedContext ?? 0))
                    {
                        Assert.True(FitPlanner.MaxLayers(cost, settings with { ContextLength = max + 256 }, Target(small)) < cost.TotalLayers);
                    }
                }
            }
        }
    }

    [Fact]
    public void Plan_ContextAboveTrained_IsCappedAndSaysSo()
    {
        var model = Write(GgufModelShape.PerLayerKvHeads, "per");
        var fit = FitPlanner.Plan(model, new LlamaCppSettings { ContextLength = 65536 }, new FitTarget { Gpus = [GpuCatalog.Find("RTX 4090")!] });
        Assert.Equal(4096, fit.ContextLength);
        Assert.Contains("capped at the trained 4096", fit.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_TooLittleMemory_IsPartialThenCpuOnlyThenTooLarge()
    {
        var model = Write(GgufModelShape.DenseLlama8B, "dense");
        var settings = new LlamaCppSettings { ContextLength = 8192, FlashAttention = true };
        FitTarget Target(long bytes, long? host = null) => new() { Gpus = [new GpuTarget { Name = "x", TotalBytes = bytes, FreeBytes = bytes }], HostAvailableBytes = host };

        var full = FitPlanner.Plan(model, settings, Target(16L << 30));
        Assert.Equal(FitKind.Full, full.Fit);
        Assert.Equal("-ngl 33 -c 8192 -fa on", full.LlamaCppArguments);
        Assert.Equal(33, full.OllamaOptions["num_gpu"]);

        var partial = FitPlanner.Plan(model, settings, Target(4L << 30));
        Assert.Equal(FitKind.Partial, partial.Fit);
        Assert.InRange(partial.GpuLayers, 1, 32);
        Assert.True(partial.EstimatedGpuBytes <= (3L << 30));

        Assert.Equal(FitKind.CpuOnly, FitPlanner.Plan(model, settings, Target(1L << 30)).Fit);
        Assert.Equal(FitKind.TooLarge, FitPlanner.Plan(model, settings, Target(1L << 30, host: 2L << 30)).Fit);
    }

    [Fact]
    public void Plan_OutputLayerGoesToGpuFirst_TokenEmbeddingStaysOnHost()
    {
        var cost = new LlamaCppModelCost(Write(GgufModelShape.DenseLlama8B, "dense"));
        var one = cost.Estimate(new LlamaCppSettings(), 1);
        Assert.Equal(cost.Weights.OutputBytes, one.Devices[0].WeightsBytes);
        var all = cost.Estimate(new LlamaCppSettings(), cost.TotalLayers);
        Assert.Equal(cost.Weights.InputBytes, all.HostWeightsBytes);
        Assert.True(cost.Weights.InputBytes > 0);
    }

    [Fact]
    public void Estimate_MoeExperts_AreMarkedAndCanStayOnHost()
    {
        var cost = new LlamaCppModelCost(Write(GgufModelShape.SmallMoe, "moe"));
        Assert.All(cost.Weights.LayerExpertBytes, b => Assert.True(b > 0));
        var onGpu = cost.Estimate(new LlamaCppSettings(), cost.TotalLayers);
        var onHost = cost.Estimate(new LlamaCppSettings { ExpertsOnHost = true }, cost.TotalLayers);
        Assert.Equal(cost.Weights.LayerExpertBytes.Sum(), onGpu.Devices[0].WeightsBytes - onHost.Devices[0].WeightsBytes);
    }

    [Fact]
    public void Estimate_SlidingWindowArchitecture_SizesSwaLayersByWindow()
    {
        // gemma2 alternates sliding-window and full layers; llama.cpp sizes the SWA ones by window + ubatch, padded.
        var shape = GgufModelShape.SlidingWindow7B with { Architecture = "gemma2", BlockCount = 4, SlidingWindow = 4096 };
        var cost = new LlamaCppModelCost(Write(shape, "gemma2"));
        var kv = KvCacheEstimate.From(cost.Shape, new LlamaCppSettings { ContextLength = 32768, FlashAttention = true });
        Assert.Equal(4096 + 512, kv.SlidingWindowCells);
        Assert.Equal(kv.LayerKeyBytes[1] * (4096 + 512) / 32768, kv.LayerKeyBytes[0]);

        // The same key on the llama architecture (Mistral v0.1) is ignored by llama.cpp: a full cache, as measured.
        var llama = new LlamaCppModelCost(Write(GgufModelShape.SlidingWindow7B, "mistral"));
        var full = KvCacheEstimate.From(llama.Shape, new LlamaCppSettings { ContextLength = 32768 });
        Assert.All(full.LayerKeyBytes, b => Assert.Equal(32768L * 1024 * 2, b));
    }

    [Theory]
    [InlineData(KvCacheType.F16, 64)]
    [InlineData(KvCacheType.BF16, 64)]
    [InlineData(KvCacheType.Q8_0, 34)]
    [InlineData(KvCacheType.Q4_0, 18)]
    [InlineData(KvCacheType.Q4_1, 20)]
    [InlineData(KvCacheType.IQ4_NL, 18)]
    [InlineData(KvCacheType.Q5_0, 22)]
    [InlineData(KvCacheType.Q5_1, 24)]
    public void CacheTypes_HaveGgmlBlockSizes(KvCacheType type, long bytesPer32)
    {
        Assert.Equal(bytesPer32 * 1000, KvCacheTypes.ByteSize(type, 32 * 1000));
    }

    [Fact]
    public void Catalogue_FindsCardsLooselyAndGivesAppleItsUsableShare()
    {
        Assert.Equal("RTX 4090", GpuCatalog.Find("rtx4090")!.Name);
        Assert.Null(GpuCatalog.Find("RTX 9999"));
        var mac = GpuCatalog.Find("Apple M3 Max 128GB")!;
        Assert.True(mac.IsUnifiedMemory);
        Assert.Equal(96L << 30, mac.FreeBytes);
    }

    [Fact]
    public void UsablePercent_IsTheOriginalRule()
    {
        var gpu = new GpuTarget { Name = "4080", TotalBytes = 16L << 30, FreeBytes = 16L << 30 };
        Assert.Equal((long)((16L << 30) * 0.9), new FitTarget { Gpus = [gpu], UsablePercent = 90 }.BudgetOf(gpu));
        Assert.Equal(15L << 30, new FitTarget { Gpus = [gpu] }.BudgetOf(gpu));
    }
}

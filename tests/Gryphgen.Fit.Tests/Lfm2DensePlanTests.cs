using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The dense LFM2 preset (LFM2-2.6B) as Select-ModelForGpu's planner meets it: the published parameter count, and a
/// full fit on a 24 GiB card with a cache on the 8 attention layers only and f32 convolution state on the other 22.
/// </summary>
public sealed class Lfm2DensePlanTests : SparseModelFolder
{
    private const long GiB = 1024L * 1024 * 1024;

    [Fact]
    public void Lfm2Dense26B_HasThePublishedParameterCount()
    {
        var model = Write(ReleasedModelShapes.Lfm2Dense26B, "lfm2-2.6b");

        Assert.Equal("lfm2", model.Architecture);
        Assert.Equal(2_569_272_320, model.ParameterCount); // LiquidAI/LFM2-2.6B's model card
    }

    [Fact]
    public void Lfm2Dense26B_FitsFullyOnA24GiBCard_WithACacheOnItsAttentionLayersOnly()
    {
        var model = Write(ReleasedModelShapes.Lfm2Dense26B, "lfm2-2.6b");
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "24 GiB", TotalBytes = 24 * GiB, FreeBytes = 24 * GiB }] };

        var fit = FitPlanner.Plan(model, new LlamaCppSettings { ContextLength = 32768 }, target);

        Assert.Equal(FitKind.Full, fit.Fit);
        Assert.Equal(31, fit.TotalLayers); // 30 blocks and the output layer
        Assert.Equal(fit.TotalLayers, fit.GpuLayers);

        // 8 attention layers x 8 KV heads x 64 x 2 (K and V) x 2 bytes (f16) a token, plus 22 conv layers x
        // (l_cache - 1 = 2) x 2048 columns of f32 state.
        Assert.Equal((32768L * 8 * 8 * 64 * 2 * 2) + (22L * 2 * 2048 * 4), fit.Breakdown.KvCacheBytes);
    }
}

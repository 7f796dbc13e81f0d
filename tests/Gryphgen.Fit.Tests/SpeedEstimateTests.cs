using System.Globalization;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using Gryphgen.Core.Gpu;
using Xunit.Abstractions;

namespace Gryphgen.Fit.Tests;

/// <summary>How the speed estimate behaves as a plan moves weights to the host, and what it needs to be made.</summary>
public sealed class SpeedEstimateTests(ITestOutputHelper output) : SparseModelFolder
{
    private static readonly GpuTarget Rtx4090 = GpuCatalog.Find("RTX 4090")!;

    [Fact]
    public void Decode_FallsAsLayersMoveToTheHost_AndNeverRises()
    {
        var cost = new LlamaCppModelCost(Write(ReleasedModelShapes.Llama31Dense8B with { FileType = "Q4_K_M" }, "llama-3.1-8b"));
        double previous = double.MaxValue;
        for (var layers = cost.TotalLayers; layers >= 0; layers--)
        {
            var speed = SpeedEstimateAccuracyTests.Estimate(cost, Rtx4090, layers, hostBandwidth: 60);
            Assert.NotNull(speed.EmptyCacheDecodeTokensPerSecond);
            Assert.True(speed.EmptyCacheDecodeTokensPerSecond <= previous, $"{layers} layers on the GPU decode faster ({speed.EmptyCacheDecodeTokensPerSecond:0.0}) than {layers + 1} ({previous:0.0})");
            previous = speed.EmptyCacheDecodeTokensPerSecond!.Value;
        }
    }

    [Fact]
    public void Decode_FallsAsExpertsMoveToTheHost_AndNeverRises()
    {
        var cost = new LlamaCppModelCost(Write(ReleasedModelShapes.Qwen3Moe30BA3B with { FileType = "Q4_K_M" }, "qwen3-30b-a3b"));
        double previous = double.MaxValue;
        for (var onHost = 0; onHost <= cost.OffloadableBlocks; onHost++)
        {
            var speed = SpeedEstimateAccuracyTests.Estimate(cost, Rtx4090, cost.TotalLayers, hostBandwidth: 60, expertLayersOnHost: onHost);
            Assert.True(speed.EmptyCacheDecodeTokensPerSecond <= previous);
            previous = speed.EmptyCacheDecodeTokensPerSecond!.Value;
        }

        // Only the routed experts' share crosses the host's bus, so all experts on the host still decode faster than
        // the whole model on the host.
        var allOnHost = SpeedEstimateAccuracyTests.Estimate(cost, Rtx4090, 0, hostBandwidth: 60).EmptyCacheDecodeTokensPerSecond!.Value;
        Assert.True(previous > allOnHost, $"experts on the host {previous:0.0} tok/s, everything on the host {allOnHost:0.0}");
    }

    /// <summary>
    /// The one published -ngl sweep of the table (an RTX 5050 Laptop, Mistral-7B Q4_K_M, ngl 0/10/20/30/40/99): the
    /// card and its host are not in the catalogue, so their bandwidths are set to reproduce the two ends (ngl 99 and
    /// ngl 0); the three points between are then the estimate's own prediction of the curve's shape.
    /// </summary>
    [Fact]
    public void PartialOffload_FollowsThePublishedSweep()
    {
        var rows = PublishedBench.Read().Where(r => r.Card.Contains("RTX 5050 Laptop", StringComparison.Ordinal) && r.Test == "tg128").ToArray();
        Assert.True(rows.Length >= 5, "the RTX 5050 Laptop sweep is missing from the table");
        var measured = rows.ToDictionary(r => r.Ngl == "99" ? 99 : int.Parse(r.Ngl, CultureInfo.InvariantCulture), r => r.TokensPerSecond);
        var cost = new LlamaCppModelCost(Write(BenchModelShapes.Find("Mistral-7B", "Q4_K_M")!, "mistral-7b"));
        double Decode(double gpuBandwidth, double hostBandwidth, int layers) => SpeedEstimateAccuracyTests.Estimate(
            cost, new GpuTarget { Name = "RTX 5050 Laptop", TotalBytes = 8L << 30, FreeBytes = 8L << 30, MemoryBandwidthGBps = gpuBandwidth, TensorTflops = 50 },
            Math.Min(layers, cost.TotalLayers), hostBandwidth).EmptyCacheDecodeTokensPerSecond!.Value;

        var gpu = Solve(b => Decode(b, 50, 99), measured[99]);
        var host = Solve(b => Decode(gpu, b, 0), measured[0]);
        output.WriteLine(FormattableString.Invariant($"GPU {gpu:0} GB/s, host {host:0.0} GB/s reproduce the ends"));
        foreach (var layers in new[] { 10, 20, 30 })
        {
            var estimated = Decode(gpu, host, layers);
            var error = (estimated / measured[layers]) - 1;
            output.WriteLine(FormattableString.Invariant($"ngl {layers}: estimated {estimated:0.0}, published {measured[layers]:0.0}, {error:+0.0%;-0.0%}"));
            Assert.InRange(error, -0.35, 0.35);
        }
    }

    [Fact]
    public void ACardWithoutABandwidth_GetsNoSpeed_AndSaysWhichFigureIsMissing()
    {
        var cost = new LlamaCppModelCost(Write(ReleasedModelShapes.Llama31Dense8B, "llama-3.1-8b"));
        var unknown = new GpuTarget { Name = "Mystery card", TotalBytes = 24L << 30, FreeBytes = 24L << 30 };
        var speed = SpeedEstimateAccuracyTests.Estimate(cost, unknown, cost.TotalLayers, hostBandwidth: 60);
        Assert.Null(speed.DecodeTokensPerSecond);
        Assert.Contains("Mystery card", speed.Assumptions, StringComparison.Ordinal);
        Assert.Contains("-MemoryBandwidth", speed.Assumptions, StringComparison.Ordinal);

        var layersOnHost = SpeedEstimateAccuracyTests.Estimate(cost, Rtx4090, 10, hostBandwidth: null);
        Assert.Null(layersOnHost.DecodeTokensPerSecond);
        Assert.Contains("-HostBandwidth", layersOnHost.Assumptions, StringComparison.Ordinal);
    }

    [Fact]
    public void ALongerContext_DecodesSlower_ByWhatTheCacheAddsToEachToken()
    {
        var cost = new LlamaCppModelCost(Write(ReleasedModelShapes.Llama31Dense8B with { FileType = "Q4_K_M" }, "llama-3.1-8b"));
        var target = new FitTarget { Gpus = [Rtx4090], HostBandwidthGBps = 60 };
        var shortPlan = FitPlanner.Plan(cost, new LlamaCppSettings { ContextLength = 4096 }, target, maxContext: false);
        var longPlan = FitPlanner.Plan(cost, new LlamaCppSettings { ContextLength = 32768 }, target, maxContext: false);
        Assert.True(longPlan.DecodeTokensPerSecond < shortPlan.DecodeTokensPerSecond);
        Assert.Equal(shortPlan.EmptyCacheDecodeTokensPerSecond!.Value, longPlan.EmptyCacheDecodeTokensPerSecond!.Value, 6);

        // A token reads the cache filled to half the context: Llama 3.1 8B's f16 cache is 32 layers x (K + V) x 1024
        // x 2 bytes = 128 KiB a token, so 16384 - 2048 more tokens filled add 14336 x 128 KiB to every token's reads.
        Assert.InRange(longPlan.Breakdown.DecodeBytesPerToken - shortPlan.Breakdown.DecodeBytesPerToken, (14336L * 128 * 1024) - (1 << 20), (14336L * 128 * 1024) + (1 << 20));
        Assert.Contains("calibrated on published llama-bench results", longPlan.Breakdown.SpeedAssumptions, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCatalogueCard_CarriesItsBandwidthAndTensorThroughput_AndGetGpuStatusObjectsGetThemByName()
    {
        Assert.All(GpuCatalog.Entries, card =>
        {
            Assert.True(card.MemoryBandwidthGBps is > 50 and < 10000, $"{card.Name}: bandwidth {card.MemoryBandwidthGBps}");
            Assert.True(card.TensorTflops is > 1 and < 5000, $"{card.Name}: {card.TensorTflops} TFLOPS");
        });
        var status = new GpuStatus { Index = 0, Name = "NVIDIA GeForce RTX 4090" };
        Assert.Equal(1008, status.MemoryBandwidthGBps);
        Assert.Equal(330.3, status.TensorTflops);
        Assert.Null(new GpuStatus { Index = 1, Name = "Some future card" }.MemoryBandwidthGBps);

        // nvidia-smi names the PCIe H100 apart from the SXM one, whose memory is two thirds faster; other PCIe parts
        // are the card the catalogue knows.
        Assert.Equal(3350, new GpuStatus { Index = 0, Name = "NVIDIA H100 80GB HBM3" }.MemoryBandwidthGBps);
        Assert.Equal(2000, new GpuStatus { Index = 0, Name = "NVIDIA H100 PCIe" }.MemoryBandwidthGBps);
        Assert.Equal("H100 80GB", GpuCatalog.Find("H100")!.Name);
        Assert.Equal("A100 40GB", GpuCatalog.Find("NVIDIA A100-PCIE-40GB")!.Name);
        Assert.Equal("V100 32GB", GpuCatalog.Find("Tesla V100-PCIE-32GB")!.Name);
    }

    [Fact]
    public void TogetherPreferSpeed_PicksTheSetThatDecodesTheMostTokens()
    {
        var small = Write(GgufModelShape.DenseLlama8B with { Name = "small", BlockCount = 8, FileType = "Q4_K_M" }, "small");
        var other = Write(GgufModelShape.DenseLlama8B with { Name = "other", BlockCount = 8, FileType = "Q4_K_M" }, "other");
        var big = Write(GgufModelShape.DenseLlama8B with { Name = "big", BlockCount = 40, FileType = "Q8_0" }, "big");
        var settings = new LlamaCppSettings { ContextLength = 4096 };
        var budget = new LlamaCppModelCost(big).Estimate(settings, 41).GpuBytes + (1L << 30) + (512L << 20);
        var target = new FitTarget { Gpus = [Rtx4090 with { FreeBytes = budget, TotalBytes = budget }], HostBandwidthGBps = 60 };

        // The big model alone holds the most parameters; the two small ones together decode more tokens a second.
        var byParameters = TogetherPlanner.Plan([small, other, big], settings, target, TogetherPreference.Parameters);
        Assert.Equal(["big"], byParameters.Where(f => f.Selected == true).Select(f => f.Model.Name));
        var bySpeed = TogetherPlanner.Plan([small, other, big], settings, target, TogetherPreference.Speed);
        Assert.Equal(["other", "small"], bySpeed.Where(f => f.Selected == true).Select(f => f.Model.Name).Order());
        Assert.Contains("decodes the most tokens a second", bySpeed.Single(f => f.Selected == false).Reason, StringComparison.Ordinal);
    }

    private static double Solve(Func<double, double> speedAt, double target)
    {
        double lo = 1, hi = 10000;
        for (var i = 0; i < 60; i++)
        {
            var mid = Math.Sqrt(lo * hi);
            if (speedAt(mid) < target)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return Math.Sqrt(lo * hi);
    }
}

using System.Globalization;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using Xunit.Abstractions;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The speed estimate held against published llama-bench results that nobody here measured
/// (tests/data/llama-bench-published.csv): every row of a card the catalogue knows and a model whose published
/// configuration the tests know is estimated and its error printed. The population the targets apply to is one
/// stock card at full offload: rows whose condition column names a power cap, an unusual host, two GPUs, an old
/// build (before June 2024), a fork or a suspect run are printed but not counted.
/// </summary>
public sealed class SpeedEstimateAccuracyTests(ITestOutputHelper output) : SparseModelFolder
{
    private readonly Dictionary<string, LlamaCppModelCost> _costs = new(StringComparer.Ordinal);

    [Fact]
    public void FullOffload_DecodeAndPrompt_AreWithinTheTargets_OfPublishedResults()
    {
        var decode = new List<double>();
        var prompt = new List<double>();
        foreach (var row in PublishedBench.Read())
        {
            if (!row.FullOffload || row.Test is not ("tg128" or "pp512") || Resolve(row) is not var (cost, gpu))
            {
                continue;
            }

            var speed = Estimate(cost, gpu, cost.TotalLayers, hostBandwidth: null);
            var estimated = row.Test == "tg128" ? speed.EmptyCacheDecodeTokensPerSecond : speed.PromptTokensPerSecond;
            Assert.NotNull(estimated);
            var error = (estimated!.Value / row.TokensPerSecond) - 1;
            var counted = row.Condition.Length == 0;
            output.WriteLine(FormattableString.Invariant($"{(counted ? "  " : "- ")}{error,7:+0.0%;-0.0%} est {estimated,9:0.0} pub {row.TokensPerSecond,9:0.0}  {row}{(counted ? "" : $"  [{row.Condition}]")}"));
            if (Environment.GetEnvironmentVariable("GRYPHGEN_SPEED_FIT") is not null)
            {
                output.WriteLine(FormattableString.Invariant($"FIT|{row.Backend}|{cost.Work.Family}|{row.Test}|{row.TokensPerSecond}|{speed.DecodeBytesPerToken}|{speed.ActiveParameters}|{cost.OffloadableBlocks}|{(cost.HasExperts ? 1 : 0)}|{gpu.MemoryBandwidthGBps}|{gpu.TensorTflops}|{(counted ? 1 : 0)}|{row.ModelId}|{row.Card}"));
            }

            if (counted)
            {
                (row.Test == "tg128" ? decode : prompt).Add(error);
            }
        }

        var decodeWithin20 = decode.Count(e => Math.Abs(e) <= 0.20) / (double)decode.Count;
        var promptWithin35 = prompt.Count(e => Math.Abs(e) <= 0.35) / (double)prompt.Count;
        output.WriteLine(FormattableString.Invariant(
            $"decode: {decode.Count} rows, {decodeWithin20:0%} within 20 %, worst {decode.Max(Math.Abs):0.0%}; prompt: {prompt.Count} rows, {promptWithin35:0%} within 35 %, worst {prompt.Max(Math.Abs):0.0%}"));
        Assert.True(decode.Count >= 20, $"only {decode.Count} decode rows to hold the estimate against");
        Assert.True(decodeWithin20 >= 0.80, $"decode within 20 % for {decodeWithin20:P0} of rows (target 80 %)");
        Assert.True(decode.Max(Math.Abs) <= 0.35, $"a decode row is off by {decode.Max(Math.Abs):P0} (target 35 % for all)");
        Assert.True(promptWithin35 >= 0.80, $"prompt within 35 % for {promptWithin35:P0} of rows (target 80 %)");
    }

    private (LlamaCppModelCost Cost, GpuTarget Gpu)? Resolve(PublishedBenchRow row)
    {
        if (row.Gpu.Length == 0 || GpuCatalog.Find(row.Gpu) is not { } card || BenchModelShapes.Find(row.ModelId, row.FileType) is not { } shape)
        {
            return null;
        }

        var key = row.ModelId + "@" + row.FileType;
        if (!_costs.TryGetValue(key, out var cost))
        {
            var path = Path.Combine(Folder, key.Replace('/', '_') + ".gguf");
            GgufModelBuilder.Write(shape, path);
            cost = new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)]));
            _costs[key] = cost;
        }

        var backend = Enum.Parse<GpuBackend>(row.Backend, ignoreCase: true);
        return (cost, card with { Backend = backend });
    }

    internal static SpeedEstimate Estimate(LlamaCppModelCost cost, GpuTarget gpu, int gpuLayers, double? hostBandwidth, int expertLayersOnHost = 0)
    {
        // llama-bench's context: the 512-token prompt and 128 generated tokens.
        var settings = new LlamaCppSettings { ContextLength = 640, FlashAttention = true, ExpertLayersOnHost = expertLayersOnHost };
        var target = new FitTarget { Gpus = [gpu], HostBandwidthGBps = hostBandwidth };
        return SpeedEstimator.Estimate(cost, cost.Estimate(settings, gpuLayers), target);
    }
}

using System.Globalization;

namespace Gryphgen.Core.Fit;

/// <summary>
/// Estimates tokens a second for a placement. Decode is bound by memory traffic: per token each device reads the
/// weights it holds that the token touches (for MoE only the routed experts' share, plus shared experts and
/// attention) and the KV cache or recurrent state it holds, at its bandwidth times an achievable fraction
/// (<see cref="SpeedCalibration"/>); layers in host memory run at the host's bandwidth; the devices take turns
/// (llama.cpp's layer split runs one device after the other for one sequence), so their times add, plus a fixed
/// cost per token. A 512-token prompt is bound by compute: 2 FLOPs per active parameter a token at the device's
/// dense FP16 matrix throughput times a fraction, plus one read of every weight it holds (all experts: a batch
/// routes to all of them); weights in host memory cross PCIe once a batch, as llama.cpp runs them on the GPU for
/// batches of 32 tokens or more. Attention's own FLOPs are left out (about 1 % of a 7B model's at 512 tokens).
/// </summary>
public static class SpeedEstimator
{
    /// <summary>Tokens of the prompt figure (llama-bench pp512).</summary>
    public const int PromptTokens = 512;

    /// <summary>Estimates the speed of <paramref name="estimate"/>'s placement of <paramref name="cost"/> on <paramref name="target"/>.</summary>
    public static SpeedEstimate Estimate(LlamaCppModelCost cost, LlamaCppMemoryEstimate estimate, FitTarget target)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(target);
        var settings = estimate.Settings;
        var work = cost.Work;
        var weights = cost.Weights;
        var n = cost.OffloadableBlocks;
        var gpus = target.Gpus;
        var placement = cost.PlaceLayers(estimate.GpuLayers, target.Split);
        var kv = KvCacheEstimate.From(cost.Shape, settings);

        // Per device (index gpus.Count = host): bytes a decoded token reads from weights, the KV cache's bytes per
        // token of fill, fixed state bytes, FLOPs a token, and every weight byte (a prompt batch reads them all).
        var slots = gpus.Count + 1;
        var host = gpus.Count;
        var tokenWeightBytes = new double[slots];
        var allWeightBytes = new double[slots];
        var flops = new double[slots];
        var expertFlops = new double[slots];
        var kvBytesPerCell = new double[slots];
        var windowKvBytes = new double[slots];
        var stateBytes = new double[slots];
        var windowCells = kv.SlidingWindowCells;
        var parallel = Math.Max(1, settings.Parallel);
        for (var il = 0; il <= n; il++)
        {
            var at = placement[il] < 0 ? host : placement[il];
            if (il == n)
            {
                var outputBytes = weights.OutputBytes + weights.DuplicatedOutputBytes;
                tokenWeightBytes[at] += outputBytes;
                allWeightBytes[at] += outputBytes;
                flops[at] += 2.0 * work.OutputParameters;
                continue;
            }

            var expertBytes = weights.LayerExpertBytes[il];
            var denseBytes = weights.LayerBytes[il] - expertBytes;
            var expertsAt = at != host && settings.KeepsExpertsOnHost(il) ? host : at;
            tokenWeightBytes[at] += denseBytes;
            allWeightBytes[at] += denseBytes;
            flops[at] += 2.0 * work.LayerDenseParameters[il];
            tokenWeightBytes[expertsAt] += expertBytes * work.ExpertShare;
            allWeightBytes[expertsAt] += expertBytes;
            flops[expertsAt] += 2.0 * work.LayerExpertParameters[il] * work.ExpertShare;
            expertFlops[expertsAt] += 2.0 * work.LayerExpertParameters[il] * work.ExpertShare;

            var cacheBytes = kv.LayerKeyBytes[il] + kv.LayerValueBytes[il];
            switch (cost.Shape.Attention[il])
            {
                case LayerAttention.Recurrent:
                    // One sequence's state is read and written back each token.
                    stateBytes[at] += 2.0 * kv.LayerStateBytes[il] / parallel;
                    break;
                case LayerAttention.SlidingWindow:
                    windowKvBytes[at] += cacheBytes / (double)Math.Max(1, windowCells);
                    break;
                case LayerAttention.Full:
                    kvBytesPerCell[at] += cacheBytes / (double)Math.Max(1, kv.Cells);
                    break;
            }
        }

        // A token's fill of the window cache is capped by the model's window, not by the cache's padded size.
        var window = Math.Max(1, cost.Shape.SlidingWindow);
        double TrafficAt(int slot, double fill) =>
            tokenWeightBytes[slot] + (kvBytesPerCell[slot] * fill) + (windowKvBytes[slot] * Math.Min(fill, window)) + stateBytes[slot];

        var family = work.Family;
        var usedGpus = Enumerable.Range(0, gpus.Count).Where(d => placement.Contains(d)).ToArray();
        var hostUsed = placement.Any(p => p < 0) || allWeightBytes[host] > 0;
        var missing = usedGpus.Where(d => gpus[d].MemoryBandwidthGBps is not > 0).Select(d => gpus[d].Name).ToArray();
        if (missing.Length > 0)
        {
            return SpeedEstimate.Unknown($"No speed estimate: the memory bandwidth of {string.Join(", ", missing)} is unknown (give it with -MemoryBandwidth).");
        }

        var hostBandwidth = target.HostBandwidthGBps;
        if (hostUsed && tokenWeightBytes[host] > 0 && hostBandwidth is not > 0)
        {
            return SpeedEstimate.Unknown("No speed estimate: the host's memory bandwidth is unknown (give it with -HostBandwidth).");
        }

        var averageFill = settings.ContextLength / 2.0;
        var moeLayers = Enumerable.Range(0, n).Count(il => work.LayerExpertParameters[il] > 0);
        double? DecodeAt(double fill)
        {
            var seconds = 0.0;
            foreach (var d in usedGpus)
            {
                var gpu = gpus[d];
                var reading = TrafficAt(d, fill) / (gpu.MemoryBandwidthGBps!.Value * 1e9 * SpeedCalibration.DecodeEfficiency(gpu, family));
                var computing = gpu.TensorTflops is > 0 ? flops[d] / 2 * SpeedCalibration.DecodeFlopsPerWeight(gpu.Backend) / (gpu.TensorTflops.Value * 1e12) : 0;
                seconds += Math.Max(reading, computing);
            }

            if (TrafficAt(host, fill) > 0 && hostBandwidth is > 0)
            {
                seconds += TrafficAt(host, fill) / (hostBandwidth.Value * 1e9 * SpeedCalibration.HostDecodeEfficiency);
            }

            var lead = usedGpus.Length > 0 ? gpus[usedGpus[0]].Backend : GpuBackend.Cpu;
            seconds += SpeedCalibration.TokenOverheadSeconds(lead, n, moeLayers);
            return seconds > 0 ? 1 / seconds : null;
        }

        double? prompt = null;
        var promptNote = "";
        if (usedGpus.Length == 0)
        {
            var hostFlops = Environment.ProcessorCount * SpeedCalibration.HostGflopsPerCore * 1e9;
            prompt = PromptTokens / ((flops[host] * PromptTokens / hostFlops) + (allWeightBytes[host] / ((hostBandwidth ?? 20) * 1e9)));
            promptNote = FormattableString.Invariant($"; prompt on {Environment.ProcessorCount} host cores at {SpeedCalibration.HostGflopsPerCore:0} GFLOPS each");
        }
        else if (usedGpus.All(d => gpus[d].TensorTflops is > 0))
        {
            // Routed experts each see only their share of the batch, and use the matrix units less.
            var tokensPerExpert = PromptTokens * work.ExpertShare;
            var expertRate = tokensPerExpert / (tokensPerExpert + SpeedCalibration.ExpertHalfRateTokens);
            double Multiplying(int slot, GpuTarget gpu)
            {
                var rate = gpu.TensorTflops!.Value * 1e12 * SpeedCalibration.PromptEfficiency(gpu, family);
                return (((flops[slot] - expertFlops[slot]) / rate) + (expertFlops[slot] / (rate * expertRate))) * PromptTokens;
            }

            var seconds = 0.0;
            foreach (var d in usedGpus)
            {
                seconds += Multiplying(d, gpus[d]) + (allWeightBytes[d] / (gpus[d].MemoryBandwidthGBps!.Value * 1e9));
            }

            // Host layers' weights cross PCIe to the first GPU, which multiplies them.
            var lead = gpus[usedGpus[0]];
            if (allWeightBytes[host] > 0)
            {
                seconds += (allWeightBytes[host] / (SpeedCalibration.PcieGBps * 1e9)) + Multiplying(host, lead);
            }

            prompt = PromptTokens / seconds;
            promptNote = "; prompt at " + Describe(usedGpus.Select(d => gpus[d]), g => FormattableString.Invariant($"{g.TensorTflops:0.#} TFLOPS × {SpeedCalibration.PromptEfficiency(g, family):0.00}"))
                + (allWeightBytes[host] > 0 ? FormattableString.Invariant($", host weights over PCIe at {SpeedCalibration.PcieGBps:0} GB/s") : "");
        }
        else
        {
            promptNote = "; no prompt estimate: a GPU's tensor throughput is unknown (give it with -TensorTflops)";
        }

        var traffic = Enumerable.Range(0, slots).Sum(s => TrafficAt(s, averageFill));
        var decodeNote = usedGpus.Length == 0
            ? FormattableString.Invariant($"decode at the host's {hostBandwidth:0.#} GB/s × {SpeedCalibration.HostDecodeEfficiency:0.00}")
            : "decode at " + Describe(usedGpus.Select(d => gpus[d]), g => FormattableString.Invariant($"{g.MemoryBandwidthGBps:0.#} GB/s × {SpeedCalibration.DecodeEfficiency(g, family):0.00}"))
                + (TrafficAt(host, averageFill) > 0 ? FormattableString.Invariant($", host {Bytes.Format((long)TrafficAt(host, averageFill))} a token at {hostBandwidth:0.#} GB/s × {SpeedCalibration.HostDecodeEfficiency:0.00}") : "");
        return new SpeedEstimate
        {
            DecodeTokensPerSecond = DecodeAt(averageFill),
            EmptyCacheDecodeTokensPerSecond = DecodeAt(0),
            PromptTokensPerSecond = prompt,
            DecodeBytesPerToken = (long)traffic,
            ActiveParameters = work.ActiveParameters,
            Assumptions = FormattableString.Invariant(
                $"Estimated, calibrated on published llama-bench results: {Bytes.Format((long)traffic)} read a token at {averageFill:0} tokens of context ({family} weights), {decodeNote}{promptNote}."),
        };
    }

    private static string Describe(IEnumerable<GpuTarget> gpus, Func<GpuTarget, string> figure) =>
        string.Join(" and ", gpus.Select(g => $"{g.Name}'s {figure(g)} ({g.Backend})"));
}

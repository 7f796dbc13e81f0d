using System.Globalization;
using System.Text;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>The target and margins a plan is made for.</summary>
public sealed record FitTarget
{
    /// <summary>Bytes in a GiB.</summary>
    public const long GiB = 1024L * 1024 * 1024;

    /// <summary>The GPU(s); layers are split across several in proportion to their budgets, like llama.cpp's tensor split.</summary>
    public required IReadOnlyList<GpuTarget> Gpus { get; init; }

    /// <summary>Bytes left unused on every GPU (default 1 GiB, as llama.cpp's --fit leaves); ignored when <see cref="UsablePercent"/> is set.</summary>
    public long HeadroomBytes { get; init; } = GiB;

    /// <summary>
    /// Plan a MoE model that does not fit fully as llama.cpp's --fit does: every layer on the GPU with the experts
    /// of as few leading blocks as needed in host memory (--n-cpu-moe), and only when even all experts on the host
    /// do not make room, fewer layers. Off: layers only, as for a dense model.
    /// </summary>
    public bool OffloadExperts { get; init; } = true;

    /// <summary>When set, a GPU may use this percentage of its total memory (the original scripts used 90), less what is already used.</summary>
    public double? UsablePercent { get; init; }

    /// <summary>Host memory available (MemAvailable), bytes; null = unknown, never TooLarge.</summary>
    public long? HostAvailableBytes { get; init; }

    /// <summary>The host's memory bandwidth, GB/s, for layers and experts left in host memory; null = unknown (no speed estimate for plans that use the host).</summary>
    public double? HostBandwidthGBps { get; init; }

    /// <summary>The bytes a model may place on <paramref name="gpu"/>.</summary>
    public long BudgetOf(GpuTarget gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        var budget = UsablePercent is { } pct
            ? (long)(gpu.TotalBytes * pct / 100) - (gpu.TotalBytes - gpu.FreeBytes)
            : gpu.FreeBytes - HeadroomBytes;
        return Math.Max(0, budget);
    }

    /// <summary>The split shares (budget of each GPU).</summary>
    public IReadOnlyList<double> Split => Gpus.Select(g => (double)Math.Max(1, BudgetOf(g))).ToArray();

    /// <summary>The GPU names joined with " + ".</summary>
    public string Name => string.Join(" + ", Gpus.Select(g => g.Name));
}

/// <summary>
/// Decides how a model runs on a target: the most layers that fit (searching n_gpu_layers from all down to 0,
/// the output layer first as llama.cpp offloads it), and the largest context that fits fully (a binary search over
/// contexts padded to 256). Decisions are monotonic: a larger context never fits where a smaller one failed, more
/// memory never means fewer layers.
/// </summary>
public static class FitPlanner
{
    /// <summary>Plans one model at <paramref name="settings"/>.ContextLength (capped at the trained context).</summary>
    public static ModelFit Plan(GgufModel model, LlamaCppSettings settings, FitTarget target) =>
        Plan(new LlamaCppModelCost(model), settings, target, maxContext: false);

    /// <summary>The smallest context llama.cpp's --fit shrinks to before it moves experts or layers off the GPU (its --fit-ctx default).</summary>
    public const int FitContextFloor = 4096;

    /// <summary>
    /// Plans one model. With <paramref name="maxContext"/> the context is the largest that fits fully (else the
    /// requested one). With <paramref name="fitContext"/> (no context asked for) it is chosen as llama-server's --fit
    /// chooses it: the trained context when it fits fully, else the largest that does, but not below
    /// <see cref="FitContextFloor"/> tokens; only then are experts or layers moved off the GPU.
    /// </summary>
    public static ModelFit Plan(LlamaCppModelCost cost, LlamaCppSettings settings, FitTarget target, bool maxContext, bool fitContext = false)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(target);
        if (target.Gpus.Count == 0)
        {
            throw new ArgumentException("A target needs at least one GPU.", nameof(target));
        }

        var trained = cost.Shape.TrainedContext is > 0 and var t ? t : int.MaxValue;
        var requested = settings.ContextLength;
        var capped = Math.Min(requested, trained);
        var largest = MaxFullContext(cost, settings, target);
        var context = maxContext && largest is { } l ? l : capped;
        string? contextChoice = null;
        if (fitContext && !maxContext)
        {
            var floor = Math.Min(FitContextFloor, trained);
            context = largest is { } fits && fits >= floor ? Math.Min(fits, trained) : floor;
            contextChoice = context >= trained
                ? $" No context was asked for, so it plans the trained {trained} tokens, which fit."
                : largest is { } f2 && f2 >= floor
                    ? $" No context was asked for, so, as llama-server's --fit does, it plans the largest that fits fully: {context} of the {(trained == int.MaxValue ? "131072 searched" : $"trained {trained}")} tokens."
                    : $" No context was asked for, and not even {floor} tokens fit fully, so, as llama-server's --fit does, it keeps {floor} and moves weights off the GPU instead.";
            requested = context;
            capped = context;
        }

        var run = settings with { ContextLength = context };
        var layers = MaxLayers(cost, run, target);
        var layersWithoutExpertOffload = layers;
        if (layers < cost.TotalLayers && target.OffloadExperts && !run.ExpertsOnHost && cost.HasExperts)
        {
            (run, layers) = PlaceExperts(cost, run, target);
        }

        var estimate = cost.Estimate(run, layers, target.Split);
        var expertLayers = run.ExpertsOnHost && cost.HasExperts ? cost.OffloadableBlocks : Math.Min(run.ExpertLayersOnHost, cost.OffloadableBlocks);
        var fit = layers == cost.TotalLayers && expertLayers == 0 ? FitKind.Full : layers > 0 ? FitKind.Partial : FitKind.CpuOnly;
        if (target.HostAvailableBytes is { } host && estimate.HostBytes > host)
        {
            fit = FitKind.TooLarge;
        }

        var devices = target.Gpus.Select((g, i) => new DeviceFit
        {
            Gpu = g.Name,
            Layers = estimate.Devices[i].Layers,
            GpuBytes = estimate.Devices[i].TotalBytes,
            BudgetBytes = target.BudgetOf(g),
        }).ToArray();
        var freeAfter = target.Gpus.Sum(g => g.FreeBytes) - estimate.GpuBytes;
        var speed = SpeedEstimator.Estimate(cost, estimate, target);
        return new ModelFit
        {
            Model = cost.Model,
            Gpu = target.Name,
            Fit = fit,
            GpuLayers = layers,
            TotalLayers = cost.TotalLayers,
            ContextLength = context,
            MaxContextLength = largest,
            ExpertLayersOnHost = expertLayers,
            EstimatedGpuBytes = estimate.GpuBytes,
            EstimatedHostBytes = estimate.HostBytes,
            Breakdown = new FitBreakdown
            {
                WeightsBytes = estimate.WeightsBytes,
                KvCacheBytes = estimate.KvCacheBytes,
                ComputeBytes = estimate.ComputeBytes,
                OverheadBytes = estimate.OverheadBytes,
                DecodeBytesPerToken = speed.DecodeBytesPerToken,
                SpeedAssumptions = speed.Assumptions,
            },
            Speed = speed,
            Devices = devices,
            FreeAfterBytes = freeAfter,
            LlamaCppArguments = Arguments(run, layers, target) + (cost.Draft is { } draft ? $" -md \"{draft.Model.Path}\" -ngld 99" : "")
                + (cost.Projector is { } mmproj ? $" --mmproj \"{mmproj.Path}\"" : ""),
            // Ollama cannot keep experts apart from their layer, so it gets the plan by whole layers.
            OllamaOptions = new Dictionary<string, int>(StringComparer.Ordinal) { ["num_gpu"] = expertLayers > 0 && !settings.ExpertsOnHost ? layersWithoutExpertOffload : layers, ["num_ctx"] = context },
            Reason = Reason(fit, cost, run, target, estimate, layers, largest, requested > capped ? trained : null, expertLayers) + contextChoice,
            Estimate = estimate,
        };
    }

    /// <summary>
    /// llama.cpp's --fit order for a MoE model that does not fit fully: all layers on the GPU with the experts of
    /// the fewest leading blocks in host memory that make it fit (more blocks' experts on the host never take more
    /// GPU memory, so the count is found by halving); when even every expert on the host is too much, every expert
    /// stays on the host and layers go as for a dense model.
    /// </summary>
    public static (LlamaCppSettings Settings, int Layers) PlaceExperts(LlamaCppModelCost cost, LlamaCppSettings settings, FitTarget target)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(target);
        var split = target.Split;
        var blocks = cost.OffloadableBlocks;
        bool FitsWith(int onHost) => Fits(cost.Estimate(settings with { ExpertLayersOnHost = onHost }, cost.TotalLayers, split), target);
        if (!FitsWith(blocks))
        {
            var allOnHost = settings with { ExpertLayersOnHost = blocks };
            return (allOnHost, MaxLayers(cost, allOnHost, target));
        }

        int lo = 0, hi = blocks;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (FitsWith(mid))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return (settings with { ExpertLayersOnHost = lo }, cost.TotalLayers);
    }

    /// <summary>Whether every GPU of the placement stays within its budget.</summary>
    public static bool Fits(LlamaCppMemoryEstimate estimate, FitTarget target)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(target);
        for (var d = 0; d < target.Gpus.Count; d++)
        {
            if (estimate.Devices[d].TotalBytes > target.BudgetOf(target.Gpus[d]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The most n_gpu_layers that fit at the settings' context (0 when none).</summary>
    public static int MaxLayers(LlamaCppModelCost cost, LlamaCppSettings settings, FitTarget target)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(target);
        // More layers never take less GPU memory, so the most that fit is found by halving: O(log n) estimates of
        // O(n) each, where trying every count from the top was quadratic in the layers a file claims.
        var split = target.Split;
        if (Fits(cost.Estimate(settings, cost.TotalLayers, split), target))
        {
            return cost.TotalLayers;
        }

        int lo = 0, hi = cost.TotalLayers - 1;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo + 1) / 2);
            if (Fits(cost.Estimate(settings, mid, split), target))
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }

    /// <summary>The largest context (multiple of the padding, at most the trained context) that fits fully; null when none.</summary>
    public static int? MaxFullContext(LlamaCppModelCost cost, LlamaCppSettings settings, FitTarget target)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(settings);
        var pad = settings.ContextPadding;
        var trained = cost.Shape.TrainedContext is > 0 and var t ? t : 131072;
        var split = target.Split;
        bool FitsAt(int steps) => Fits(cost.Estimate(settings with { ContextLength = steps * pad }, cost.TotalLayers, split), target);
        int lo = 1, hi = Math.Max(1, trained / pad);
        if (!FitsAt(lo))
        {
            return null;
        }

        while (lo < hi)
        {
            var mid = lo + ((hi - lo + 1) / 2);
            if (FitsAt(mid))
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo * pad;
    }

    /// <summary>The llama.cpp command-line options of a plan.</summary>
    public static string Arguments(LlamaCppSettings settings, int layers, FitTarget target)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(target);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"-ngl {layers} -c {settings.ContextLength}");
        if (settings.CacheTypeK != KvCacheType.F16 || settings.CacheTypeV != KvCacheType.F16)
        {
            sb.Append(CultureInfo.InvariantCulture, $" -ctk {KvCacheTypes.CommandLineName(settings.CacheTypeK)} -ctv {KvCacheTypes.CommandLineName(settings.CacheTypeV)}");
        }

        sb.Append(settings.FlashAttention ? " -fa on" : " -fa off");
        if (settings.BatchSize != 2048)
        {
            sb.Append(CultureInfo.InvariantCulture, $" -b {settings.BatchSize}");
        }

        if (settings.UBatchSize != 512)
        {
            sb.Append(CultureInfo.InvariantCulture, $" -ub {settings.UBatchSize}");
        }

        if (settings.Parallel > 1)
        {
            sb.Append(CultureInfo.InvariantCulture, $" -np {settings.Parallel}");
        }

        if (settings.ContextCheckpoints != LlamaCppSettings.DefaultContextCheckpoints)
        {
            sb.Append(CultureInfo.InvariantCulture, $" --ctx-checkpoints {settings.ContextCheckpoints}");
        }

        if (settings.ExpertsOnHost)
        {
            sb.Append(" --cpu-moe");
        }
        else if (settings.ExpertLayersOnHost > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $" --n-cpu-moe {settings.ExpertLayersOnHost}");
        }

        if (target.Gpus.Count > 1 && layers > 0)
        {
            sb.Append(" -ts ").Append(string.Join(",", target.Gpus.Select(g => (target.BudgetOf(g) / (1024 * 1024)).ToString(CultureInfo.InvariantCulture))));
        }

        return sb.ToString();
    }

    private static string Reason(FitKind fit, LlamaCppModelCost cost, LlamaCppSettings run, FitTarget target, LlamaCppMemoryEstimate estimate, int layers, int? largest, int? cappedAt, int expertLayers)
    {
        var budget = target.Gpus.Sum(target.BudgetOf);
        var ctx = run.ContextLength.ToString(CultureInfo.InvariantCulture);
        var experts = expertLayers >= cost.OffloadableBlocks ? "the experts of every block" : $"the experts of the first {expertLayers} of {cost.OffloadableBlocks} blocks";
        var reason = fit switch
        {
            FitKind.Partial when expertLayers > 0 && layers == cost.TotalLayers =>
                $"All {layers} layers run on {target.Name} at {ctx} tokens with {experts} kept in host memory ({Bytes.Format(estimate.HostWeightsBytes)} of weights there), as llama.cpp's --fit would place them; {Bytes.Format(budget - estimate.GpuBytes)} of the budget stays free"
                + (largest is { } me ? $" (it fits fully up to {me} tokens)." : "."),
            FitKind.Partial when expertLayers > 0 =>
                $"Even with {experts} in host memory, only {layers} of {cost.TotalLayers} layers fit in the {Bytes.Format(budget)} budget of {target.Name} at {ctx} tokens; the rest runs on the CPU.",
            FitKind.Full => $"Fits entirely on {target.Name} at {ctx} tokens with {Bytes.Format(budget - estimate.GpuBytes)} of its budget to spare"
                + (largest is { } m ? $"; up to {m} tokens fit." : "."),
            FitKind.Partial => $"Only {layers} of {cost.TotalLayers} layers fit in the {Bytes.Format(budget)} budget of {target.Name} at {ctx} tokens; the rest runs on the CPU, so pick a smaller quantisation, a quantised cache (-CacheType q8_0) or a shorter context to fit it fully"
                + (largest is { } m2 ? $" (it fits fully up to {m2} tokens)." : "."),
            FitKind.CpuOnly => $"Not one layer fits in the {Bytes.Format(budget)} budget of {target.Name}; it runs on the CPU only, so pick a smaller model or quantisation for this GPU.",
            _ => $"Needs {Bytes.Format(estimate.HostBytes)} of host memory beside the GPU but only {Bytes.Format(target.HostAvailableBytes ?? 0)} is available; pick a smaller model or quantisation.",
        };
        reason = cappedAt is { } c ? reason + $" The context is capped at the trained {c} tokens." : reason;
        if (cost.ProjectorFor(run.FlashAttention) is { } projector)
        {
            reason += $" That counts the vision projector '{projector.Projector.Name}' on the first GPU: {Bytes.Format(projector.TotalBytes)} for its weights and image encoder"
                + (projector.Caveat is { } why ? $" ({why})." : ".");
        }

        if (cost.Draft is { } draft)
        {
            var onGpu = draft.Estimate(run with { ExpertsOnHost = false, ExpertLayersOnHost = 0 }, draft.TotalLayers).Devices[0];
            reason += $" That counts the draft model '{draft.Model.Name}' on the first GPU: {Bytes.Format(onGpu.WeightsBytes + onGpu.KvCacheBytes + onGpu.ComputeBytes)} for its weights, cache and compute buffer.";
        }

        return cost.Shape.Caveat is { } caveat ? reason + $" Approximate: {caveat}." : reason;
    }
}

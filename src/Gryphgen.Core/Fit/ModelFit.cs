using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>How a model can run on the target. Ordered best first.</summary>
public enum FitKind
{
    /// <summary>Every layer and the whole context on the GPU(s).</summary>
    Full,

    /// <summary>Some layers on the GPU(s), the rest on the CPU.</summary>
    Partial,

    /// <summary>No layer fits on the GPU(s); the host holds it all.</summary>
    CpuOnly,

    /// <summary>Not even host memory (MemAvailable) holds what stays off the GPU.</summary>
    TooLarge,
}

/// <summary>Memory of a plan by kind, bytes, GPU and host together.</summary>
public sealed record FitBreakdown
{
    /// <summary>Weights, bytes.</summary>
    public required long WeightsBytes { get; init; }

    /// <summary>KV cache and recurrent state, bytes.</summary>
    public required long KvCacheBytes { get; init; }

    /// <summary>Compute buffers and the host output buffer, bytes.</summary>
    public required long ComputeBytes { get; init; }

    /// <summary>Per-GPU fixed overhead (CUDA context...), bytes.</summary>
    public required long OverheadBytes { get; init; }

    /// <summary>Bytes one decoded token reads (weights it touches, KV cache at half the context, recurrent state).</summary>
    public long DecodeBytesPerToken { get; init; }

    /// <summary>What the speed estimate assumed: bandwidths, fractions, the cache fill.</summary>
    public string SpeedAssumptions { get; init; } = "";

    public override string ToString() =>
        $"Weights {Bytes.Format(WeightsBytes)}, KV {Bytes.Format(KvCacheBytes)}, Compute {Bytes.Format(ComputeBytes)}, Overhead {Bytes.Format(OverheadBytes)}";
}

/// <summary>What one GPU of a plan holds and may hold, bytes.</summary>
public sealed record DeviceFit
{
    /// <summary>The GPU's name.</summary>
    public required string Gpu { get; init; }

    /// <summary>Layers placed on it (the output layer counts as one).</summary>
    public required int Layers { get; init; }

    /// <summary>Bytes placed on it.</summary>
    public required long GpuBytes { get; init; }

    /// <summary>Bytes it may take: free memory less the headroom (or the usable percent).</summary>
    public required long BudgetBytes { get; init; }

    public override string ToString() => $"{Gpu}: {Layers} layers, {Fit.Bytes.Format(GpuBytes)} of {Fit.Bytes.Format(BudgetBytes)}";
}

/// <summary>The answer for one model: whether and how it runs on the target, and with which llama.cpp / Ollama settings.</summary>
public sealed record ModelFit
{
    /// <summary>The model planned for.</summary>
    public required GgufModel Model { get; init; }

    /// <summary>The target GPU(s), names joined with " + ".</summary>
    public required string Gpu { get; init; }

    /// <summary>Full, Partial, CpuOnly or TooLarge.</summary>
    public required FitKind Fit { get; init; }

    /// <summary>n_gpu_layers of the plan (the output layer counts as one).</summary>
    public required int GpuLayers { get; init; }

    /// <summary>Block count + 1: the n_gpu_layers that offloads everything.</summary>
    public required int TotalLayers { get; init; }

    /// <summary>The context of the plan, tokens (as passed to llama.cpp, before its padding to 256).</summary>
    public required int ContextLength { get; init; }

    /// <summary>The largest context (a multiple of 256, at most the trained one) that still fits fully, tokens; null when none does.</summary>
    public int? MaxContextLength { get; init; }

    /// <summary>
    /// Blocks whose MoE experts stay in host memory while the rest of the block runs on the GPU (llama.cpp's
    /// <c>--n-cpu-moe</c>, counted from the first block); 0 for dense models and plans that keep every expert on the GPU.
    /// </summary>
    public int ExpertLayersOnHost { get; init; }

    /// <summary>Bytes on the GPU(s).</summary>
    public required long EstimatedGpuBytes { get; init; }

    /// <summary>Bytes in host memory.</summary>
    public required long EstimatedHostBytes { get; init; }

    /// <summary>GPU and host bytes by kind.</summary>
    public required FitBreakdown Breakdown { get; init; }

    /// <summary>Per-GPU layers and bytes (one entry per GPU of a split).</summary>
    public required IReadOnlyList<DeviceFit> Devices { get; init; }

    /// <summary>GPU memory left free after loading, bytes, summed over the GPUs (headroom included); negative when over.</summary>
    public required long FreeAfterBytes { get; init; }

    /// <summary>llama-server / llama-cli options for this plan, e.g. <c>-ngl 33 -c 8192 -ctk q8_0 -ctv q8_0 -fa on</c>.</summary>
    public required string LlamaCppArguments { get; init; }

    /// <summary>Ollama options for this plan: num_gpu (layers) and num_ctx (context).</summary>
    public required IReadOnlyDictionary<string, int> OllamaOptions { get; init; }

    /// <summary>One sentence a person can act on.</summary>
    public required string Reason { get; init; }

    /// <summary>With -Together: true when the model is in the chosen set, false when left out; null otherwise.</summary>
    public bool? Selected { get; init; }

    /// <summary>Expected decode speed of one sequence with the cache half full, tokens a second (an estimate; null when a bandwidth is unknown).</summary>
    public double? DecodeTokensPerSecond => Speed.DecodeTokensPerSecond;

    /// <summary>Expected decode speed at an empty cache (llama-bench tg128), tokens a second.</summary>
    public double? EmptyCacheDecodeTokensPerSecond => Speed.EmptyCacheDecodeTokensPerSecond;

    /// <summary>Expected prompt speed of a 512-token batch (llama-bench pp512), tokens a second.</summary>
    public double? PromptTokensPerSecond => Speed.PromptTokensPerSecond;

    /// <summary>The speed estimate behind the three figures, with its assumptions.</summary>
    public SpeedEstimate Speed { get; init; } = SpeedEstimate.Unknown("No speed estimate was made.");

    /// <summary>The full estimate behind the plan.</summary>
    public required LlamaCppMemoryEstimate Estimate { get; init; }

    // Flat text beside the nested objects, so Export-Csv and Format-Table say which model a row is about and
    // where it goes, instead of writing type names.

    /// <summary>The model's name, as <see cref="GgufModel.Name"/>.</summary>
    public string ModelName => Model.Name;

    /// <summary>The model's file (the first shard of a split model), as <see cref="GgufModel.Path"/>.</summary>
    public string ModelPath => Model.Path;

    /// <summary>Each GPU's share, e.g. <c>RTX 4090: 33 layers, 5.5 GiB of 21.6 GiB</c>, joined with "; ".</summary>
    public string DeviceSummary => string.Join("; ", Devices);

    /// <summary>The Ollama options as text, e.g. <c>num_gpu=33 num_ctx=8192</c>.</summary>
    public string OllamaOptionsText => string.Join(' ', OllamaOptions.Select(option => $"{option.Key}={option.Value}"));
}

/// <summary>Byte counts as people read them.</summary>
public static class Bytes
{
    /// <summary>1.5 GiB, 300 MiB...</summary>
    public static string Format(long bytes)
    {
        var abs = Math.Abs((double)bytes);
        return abs >= 1 << 30
            ? (bytes / (double)(1 << 30)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " GiB"
            : (bytes / (double)(1 << 20)).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + " MiB";
    }
}

using System.Globalization;

namespace Gryphgen.Core.Fit;

/// <summary>How fast a plan is expected to run: one sequence's decode and a 512-token prompt, tokens a second.</summary>
public sealed record SpeedEstimate
{
    /// <summary>Decode (llama-bench tg) of one sequence with the cache filled to half the planned context, tokens a second; null when a device's bandwidth is unknown.</summary>
    public double? DecodeTokensPerSecond { get; init; }

    /// <summary>Decode of one sequence at an empty cache (llama-bench tg128), tokens a second; null when unknown.</summary>
    public double? EmptyCacheDecodeTokensPerSecond { get; init; }

    /// <summary>Prompt processing of 512 tokens (llama-bench pp512), tokens a second; null when unknown.</summary>
    public double? PromptTokensPerSecond { get; init; }

    /// <summary>Bytes one decoded token reads with the cache half full: the weights it touches and the KV cache or state.</summary>
    public long DecodeBytesPerToken { get; init; }

    /// <summary>Parameters one token multiplies (routed experts at their used share).</summary>
    public double ActiveParameters { get; init; }

    /// <summary>The figures and fractions the estimate used, as a sentence.</summary>
    public required string Assumptions { get; init; }

    /// <summary>An estimate that cannot be made, saying why.</summary>
    public static SpeedEstimate Unknown(string why) => new() { Assumptions = why };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"decode {DecodeTokensPerSecond:0.#} tok/s (empty cache {EmptyCacheDecodeTokensPerSecond:0.#}), prompt {PromptTokensPerSecond:0} tok/s");
}

/// <summary>How Select-ModelForGpu orders its answers.</summary>
public enum ModelFitSort
{
    /// <summary>Best fit first (Full, Partial, CpuOnly, TooLarge), then the share of layers on the GPU.</summary>
    Fit,

    /// <summary>Fastest expected decode first.</summary>
    Speed,
}

using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using LLama.Native;
using Xunit.Abstractions;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The estimate for models shaped like released ones (hybrid attention + recurrent, MLA, NextN, tied output)
/// against LLamaSharp 0.30.0's llama.cpp: weights to llama.cpp's rounding, KV cache plus recurrent state within
/// 1 %, compute within 15 %, total within 5 %, at 4096, 32768 and 131072 tokens (where the trained context
/// allows), with an f16 cache and with a q8_0 cache under flash attention. Contexts are sized without being
/// allocated (llama.cpp's no_alloc load), so a 131072-token cache costs this machine nothing.
/// </summary>
public sealed class ReleasedModelAccuracyTests(ReleasedModels models, ITestOutputHelper output) : IClassFixture<ReleasedModels>
{

    public static TheoryData<string, int, KvCacheType, bool> Cases { get; } = Build();

    private static TheoryData<string, int, KvCacheType, bool> Build()
    {
        var data = new TheoryData<string, int, KvCacheType, bool>();
        foreach (var (name, shape) in ReleasedModels.Shapes)
        {
            foreach (var context in new[] { 4096, 32768, 131072 }.Where(c => c <= shape.ContextLength))
            {
                data.Add(name, context, KvCacheType.F16, false);
                data.Add(name, context, KvCacheType.Q8_0, true);
            }
        }

        data.Add("qwen3.5-35b-a3b", 8192, KvCacheType.F16, true);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Estimate_MatchesLlamaCpp(string model, int context, KvCacheType cache, bool flashAttention)
    {
        var path = models.PathOf(model);
        var measured = LlamaCppLoadLog.MeasureWithoutAllocating(path, (uint)context, (GGMLType)KvCacheTypes.ToGgml(cache), flashAttention);
        var weights = models.WeightsOf(model);
        var gguf = new GgufModel([GgufHeaderReader.Read(path)]);
        var estimate = LlamaCppMemoryEstimate.Create(gguf, new LlamaCppSettings
        {
            ContextLength = context,
            CacheTypeK = cache,
            CacheTypeV = cache,
            FlashAttention = flashAttention,

            // llama.cpp's own buffers; llama-server's checkpoints are host copies it makes later, tested apart.
            ContextCheckpoints = 0,
        });

        var total = weights + measured.Kv + measured.Output + measured.Compute;
        var line = $"{model} ctx={context} {cache} fa={flashAttention}: weights {BufferTolerance.Dev(estimate.HostWeightsBytes, weights)}, " +
            $"KV+state {BufferTolerance.Dev(estimate.HostKvCacheBytes, measured.Kv)}, output {BufferTolerance.Dev(estimate.OutputBytes, measured.Output)}, " +
            $"compute {BufferTolerance.Dev(estimate.HostComputeBytes, measured.Compute)}, total {BufferTolerance.Dev(estimate.HostBytes, total)}";
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "gryph-fit-accuracy.txt"), line + Environment.NewLine);

        BufferTolerance.Within(estimate.HostWeightsBytes, weights, 0, "weights");
        BufferTolerance.Within(estimate.HostKvCacheBytes, measured.Kv, 0.01, "KV cache and recurrent state");
        BufferTolerance.Within(estimate.OutputBytes, measured.Output, 0.01, "output buffer");
        BufferTolerance.Within(estimate.HostComputeBytes, measured.Compute, 0.15, "compute buffer");
        BufferTolerance.Within(estimate.HostBytes, total, 0.05, "total");
    }
}

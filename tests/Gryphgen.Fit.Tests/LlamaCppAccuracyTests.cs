using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using LLama.Native;
using Xunit.Abstractions;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The estimate against llama.cpp itself: LLamaSharp 0.30.0's CPU llama.cpp loads each model (memory-mapped, no
/// decode) and prints its buffer sizes; the estimate for the same settings with n_gpu_layers = 0 must agree:
/// weights and KV within 1 %, compute within 15 %, total within 5 %. llama.cpp prints MiB with two decimals, so
/// each comparison also allows that rounding (0.005 MiB).
/// </summary>
public sealed class LlamaCppAccuracyTests(SparseModels models, ITestOutputHelper output) : IClassFixture<SparseModels>
{

    public static TheoryData<string, int, KvCacheType, bool> Cases { get; } = Build();

    private static TheoryData<string, int, KvCacheType, bool> Build()
    {
        var data = new TheoryData<string, int, KvCacheType, bool>
        {
            // The tiny model's head size (4) is below a quantised block, so llama.cpp accepts only F16/BF16 there.
            { "tiny", 1000, KvCacheType.F16, false },
            { "tiny", 2048, KvCacheType.BF16, true },
        };
        foreach (var (name, _) in SparseModels.Shapes)
        {
            data.Add(name, 1000, KvCacheType.F16, false);
            data.Add(name, 4096, KvCacheType.Q8_0, true);
            data.Add(name, 8192, KvCacheType.Q4_0, true);
        }

        data.Add("dense8b", 3000, KvCacheType.IQ4_NL, true);
        data.Add("dense8b", 2048, KvCacheType.Q5_1, true);
        data.Add("moe", 2048, KvCacheType.Q4_1, true);
        data.Add("swa", 5000, KvCacheType.Q5_0, true);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Estimate_MatchesLlamaCppBuffers(string model, int context, KvCacheType cache, bool flashAttention)
    {
        var path = model == "tiny" ? Path.Combine(SharedTestData.Folder("gguf"), "llama-2-tiny-random.gguf") : models.PathOf(model);
        var measured = LlamaCppLoadLog.Measure(path, (uint)context, (GGMLType)KvCacheTypes.ToGgml(cache), flashAttention);
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

        var line = $"{model} ctx={context} {cache} fa={flashAttention}: weights {BufferTolerance.Dev(estimate.HostWeightsBytes, measured.Model)}, " +
            $"KV {BufferTolerance.Dev(estimate.HostKvCacheBytes, measured.Kv)}, output {BufferTolerance.Dev(estimate.OutputBytes, measured.Output)}, " +
            $"compute {BufferTolerance.Dev(estimate.HostComputeBytes, measured.Compute)}, total {BufferTolerance.Dev(estimate.HostBytes, measured.Total)}";
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "gryph-fit-accuracy.txt"), line + Environment.NewLine);

        BufferTolerance.Within(estimate.HostWeightsBytes, measured.Model, 0.01, "weights");
        BufferTolerance.Within(estimate.HostKvCacheBytes, measured.Kv, 0.01, "KV cache");
        BufferTolerance.Within(estimate.OutputBytes, measured.Output, 0.01, "output buffer");
        BufferTolerance.Within(estimate.HostComputeBytes, measured.Compute, 0.15, "compute buffer");
        BufferTolerance.Within(estimate.HostBytes, measured.Total, 0.05, "total");
    }
}

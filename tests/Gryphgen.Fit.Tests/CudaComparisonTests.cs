using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using LLama.Native;
using Xunit.Abstractions;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The estimate against llama.cpp's CUDA buffers, run by hand on a GPU machine (it skips elsewhere):
/// <code>
/// GRYPH_CUDA_COMPARE=1 GRYPH_LLAMA_LIBRARY=/path/to/cuda/libllama.so \
///   dotnet test tests/Gryphgen.Fit.Tests --filter FullyQualifiedName~CudaComparison --logger "console;verbosity=detailed"
/// </code>
/// The library must be a CUDA build of the llama.cpp commit LLamaSharp 0.30.0 binds (LLamaSharp.Backend.Cuda12
/// 0.30.0's runtimes/linux-x64/native/cuda12/libllama.so, with its libggml*.so beside it). Each case loads the
/// model fully offloaded (n_gpu_layers = all) and prints the CUDA0 / CUDA_Host / CPU buffers beside the estimate's
/// device and host figures; weights and KV must agree within 1 %, the device total within 5 %.
/// LLamaSharp.Backend.Cuda12 is not served to this workplace and a GPU machine here has no dotnet: there the same
/// comparison runs without .NET, against node-llama-cpp's prebuilt CUDA llama.cpp, as tests/gpu/cuda-fit-check.sh
/// (tests/gpu/README.md).
/// </summary>
public sealed class CudaComparisonTests(SparseModels models, ITestOutputHelper output) : IClassFixture<SparseModels>
{
    [SkippableTheory]
    [InlineData("dense8b", 4096, KvCacheType.F16, true)]
    [InlineData("dense8b", 8192, KvCacheType.Q8_0, true)]
    [InlineData("moe", 4096, KvCacheType.F16, false)]
    [InlineData("swa", 8192, KvCacheType.Q4_0, true)]
    [InlineData("perlayer", 4096, KvCacheType.F16, false)]
    public void CudaBuffers_MatchTheDeviceEstimate(string model, int context, KvCacheType cache, bool flashAttention)
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("GRYPH_CUDA_COMPARE") == "1", "Set GRYPH_CUDA_COMPARE=1 and GRYPH_LLAMA_LIBRARY on a CUDA machine.");
        var path = models.PathOf(model);
        var gguf = new GgufModel([GgufHeaderReader.Read(path)]);
        var settings = new LlamaCppSettings { ContextLength = context, CacheTypeK = cache, CacheTypeV = cache, FlashAttention = flashAttention, DeviceOverheadBytes = 0 };
        var cost = new LlamaCppModelCost(gguf);
        var estimate = cost.Estimate(settings, cost.TotalLayers);
        var measured = LlamaCppLoadLog.Measure(path, (uint)context, (GGMLType)KvCacheTypes.ToGgml(cache), flashAttention, gpuLayers: cost.TotalLayers);
        var device = estimate.Devices[0];
        long cudaModel = measured.Of("CUDA0", "model"), cudaKv = measured.Of("CUDA0", "KV"), cudaCompute = measured.Of("CUDA0", "compute");
        output.WriteLine($"{model} ctx={context} {cache} fa={flashAttention}");
        output.WriteLine($"  CUDA0 weights  {Mib(device.WeightsBytes)} est / {Mib(cudaModel)} llama.cpp");
        output.WriteLine($"  CUDA0 KV       {Mib(device.KvCacheBytes)} est / {Mib(cudaKv)} llama.cpp");
        output.WriteLine($"  CUDA0 compute  {Mib(device.ComputeBytes)} est / {Mib(cudaCompute)} llama.cpp");
        output.WriteLine($"  host compute   {Mib(estimate.HostComputeBytes)} est / {Mib(measured.Of("CUDA_Host", "compute") + measured.Of("CPU", "compute"))} llama.cpp");
        output.WriteLine($"  host weights   {Mib(estimate.HostWeightsBytes)} est / {Mib(measured.Of("CPU", "model"))} llama.cpp");
        foreach (var line in measured.Lines.Where(l => l.Contains("buffer size", StringComparison.Ordinal)))
        {
            output.WriteLine("  | " + line);
        }

        Assert.InRange(device.WeightsBytes, cudaModel * 0.99, cudaModel * 1.01);
        Assert.InRange(device.KvCacheBytes, cudaKv * 0.99, cudaKv * 1.01);
        Assert.InRange(device.TotalBytes, (cudaModel + cudaKv + cudaCompute) * 0.95, (cudaModel + cudaKv + cudaCompute) * 1.05);
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0,9:F2} MiB";
}

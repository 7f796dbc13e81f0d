using System.Runtime.InteropServices;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using LLama.Common;
using LLama.Extensions;
using LLama.Native;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// llama-server keeps up to --ctx-checkpoints (32) copies per slot of a sequence's partial state for models whose
/// cache cannot be cut back: the host memory they take is counted, one checkpoint as large as llama.cpp's own
/// llama_state_seq_get_size_ext(PARTIAL_ONLY) for that sequence.
/// </summary>
public sealed class ContextCheckpointTests : IDisposable
{
    private const uint PartialOnly = 1;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gryph-checkpoints-" + Guid.NewGuid().ToString("N"));

    public ContextCheckpointTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nuint StateSeqGetSizeExt(IntPtr context, int sequence, uint flags);

    /// <summary>A small gated delta-net hybrid (Qwen3.5's layout, narrow), so one decoded token costs nothing.</summary>
    private static readonly GgufModelShape SmallHybrid = ReleasedModelShapes.Qwen35Dense27B with
    {
        Name = "small hybrid",
        BlockCount = 8,
        EmbeddingLength = 256,
        FeedForwardLength = 512,
        HeadCount = 4,
        HeadCountKv = 2,
        KeyLength = 64,
        ValueLength = 64,
        RopeDimensions = 16,
        VocabularySize = 512,
        ContextLength = 4096,
        FileType = "F16",
        Ssm = new GgufSsmShape { ConvKernel = 4, StateSize = 32, GroupCount = 4, TimeStepRank = 8, InnerSize = 256 },
    };

    [SkippableFact]
    public void OneCheckpoint_IsWhatLlamaCppSavesOfASequence_AndServerPlansCountThirtyTwoPerSlot()
    {
        var path = Path.Combine(_folder, "hybrid.gguf");
        GgufModelBuilder.Write(SmallHybrid, path);
        var measured = PartialStateOfOneDecodedToken(path, 1024);
        var settings = new LlamaCppSettings { ContextLength = 1024 };
        var kv = KvCacheEstimate.From(LlamaCppModelShape.From(new GgufModel([GgufHeaderReader.Read(path)])), settings);
        // llama.cpp adds a few bytes of cell and layer headers to the tensors' data.
        Assert.InRange(measured - kv.CheckpointBytes, 0, 4096);

        var cost = new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)]));
        Assert.Equal(32 * 2 * kv.CheckpointBytes, cost.Estimate(settings with { Parallel = 2 }, cost.TotalLayers).HostCheckpointBytes);
        Assert.Equal(0, cost.Estimate(settings with { ContextCheckpoints = 0 }, cost.TotalLayers).HostCheckpointBytes);
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "g", TotalBytes = 1L << 34, FreeBytes = 1L << 34 }] };
        Assert.Contains("--ctx-checkpoints 4", FitPlanner.Plan(cost, settings with { ContextCheckpoints = 4 }, target, maxContext: false).LlamaCppArguments, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsWhoseCacheCanBeCutBack_AreNeverCheckpointed()
    {
        var path = Path.Combine(_folder, "dense.gguf");
        GgufModelBuilder.Write(GgufModelShape.DenseLlama8B, path);
        var cost = new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)]));
        Assert.Equal(0, cost.Estimate(new LlamaCppSettings(), cost.TotalLayers).HostCheckpointBytes);
    }

    private static long PartialStateOfOneDecodedToken(string path, uint context)
    {
        var p = new ModelParams(path) { ContextSize = context, GpuLayerCount = 0, Threads = 1, LoadMode = LLamaLoadMode.MemoryMap };
        using (p.ToLlamaModelParams(out var nativeModel))
        {
            nativeModel.use_extra_bufts = false;
            using var handle = SafeLlamaModelHandle.LoadFromFile(path, nativeModel);
            p.ToLlamaContextParams(out var nativeContext);
            using var ctx = SafeLLamaContextHandle.Create(handle, nativeContext);
            var batch = new LLamaBatch();
            batch.Add((LLamaToken)1, 0, LLamaSeqId.Zero, true);
            Assert.Equal(DecodeResult.Ok, ctx.Decode(batch));
            var size = Marshal.GetDelegateForFunctionPointer<StateSeqGetSizeExt>(Export("llama_state_seq_get_size_ext"));
            return (long)size(ctx.DangerousGetHandle(), 0, PartialOnly);
        }
    }

    /// <summary>A function of the libllama LLamaSharp has loaded (found through this process's mappings).</summary>
    private static IntPtr Export(string name)
    {
        var library = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .First(f => f.EndsWith("/libllama.so", StringComparison.Ordinal));
        return NativeLibrary.GetExport(NativeLibrary.Load(library), name);
    }
}

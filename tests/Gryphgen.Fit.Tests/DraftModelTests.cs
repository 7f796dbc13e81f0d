using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using LLama.Native;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// A draft model for speculative decoding (llama-server -md) is loaded by the same process on the first GPU: its
/// weights, its own KV cache at the model's context and its own compute buffer, each as llama.cpp allocates them
/// for that file.
/// </summary>
public sealed class DraftModelTests : SparseModelFolder
{
    private const long GiB = 1024L * 1024 * 1024;
    [SkippableFact]
    public void TheDraft_AddsWhatLlamaCppAllocatesForIt_ToTheFirstGpu()
    {
        var main = Write(ReleasedModelShapes.Qwen3Dense8B, "qwen3-8b");
        var draft = Write(ReleasedModelShapes.Qwen3Dense06B, "qwen3-0.6b");
        var settings = new LlamaCppSettings { ContextLength = 16384 };
        var alone = new LlamaCppModelCost(main).Estimate(settings, 37);
        var withDraft = new LlamaCppModelCost(main, draft).Estimate(settings, 37);
        var added = withDraft.Devices[0].TotalBytes - alone.Devices[0].TotalBytes;

        // What llama.cpp allocates for the draft at that context (CPU build: every buffer in one place), against
        // what the plan puts on the GPU for it plus what stays on the host (its input embeddings, its logits).
        var measured = LlamaCppLoadLog.MeasureWithoutAllocating(draft.Path, 16384, GGMLType.GGML_TYPE_F16, false);
        var draftCpu = new LlamaCppModelCost(draft).Estimate(settings, 0);
        Assert.Equal(measured.Model - measured.SkippedBytes, draftCpu.HostWeightsBytes);
        Assert.Equal(measured.Kv, draftCpu.HostKvCacheBytes);
        Assert.InRange(draftCpu.HostComputeBytes, measured.Compute * 0.85, measured.Compute * 1.15);
        var onGpu = new LlamaCppModelCost(draft).Estimate(settings, 29).Devices[0];
        Assert.Equal(onGpu.WeightsBytes + onGpu.KvCacheBytes + onGpu.ComputeBytes, added);
        Assert.Equal(measured.Kv, onGpu.KvCacheBytes);
        Assert.True(withDraft.HostBytes > alone.HostBytes);
    }

    [Fact]
    public void ATightCard_FitsLessOfTheModel_WithADraft()
    {
        var main = Write(ReleasedModelShapes.Qwen3Dense8B, "qwen3-8b");
        var draft = Write(ReleasedModelShapes.Qwen3Dense06B, "qwen3-0.6b");
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "8 GiB", TotalBytes = 8 * GiB, FreeBytes = 8 * GiB }] };
        var settings = new LlamaCppSettings { ContextLength = 16384 };
        var plain = FitPlanner.Plan(new LlamaCppModelCost(main), settings, target, maxContext: false);
        var speculative = FitPlanner.Plan(new LlamaCppModelCost(main, draft), settings, target, maxContext: false);
        Assert.True(speculative.GpuLayers < plain.GpuLayers, $"{speculative.GpuLayers} vs {plain.GpuLayers}");
        Assert.True(speculative.EstimatedGpuBytes <= target.BudgetOf(target.Gpus[0]));
        Assert.EndsWith($"-md \"{draft.Path}\" -ngld 99", speculative.LlamaCppArguments, StringComparison.Ordinal);
        Assert.Contains("draft model 'Qwen3-0.6B (shape only)'", speculative.Reason, StringComparison.Ordinal);
        var roomy = target with { Gpus = [new GpuTarget { Name = "10 GiB", TotalBytes = 10 * GiB, FreeBytes = 10 * GiB }] };
        Assert.True(FitPlanner.Plan(new LlamaCppModelCost(main, draft), settings with { ContextLength = 4096 }, roomy, maxContext: true).MaxContextLength
            < FitPlanner.Plan(new LlamaCppModelCost(main), settings with { ContextLength = 4096 }, roomy, maxContext: true).MaxContextLength);
    }
}

using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// A vision projector (mmproj) lying beside its model is paired with it and counted on the first GPU as llama.cpp's
/// mtmd allocates it: its weights and its encoder's warm-up compute buffer, with and without flash attention.
/// </summary>
public sealed class ProjectorTests : SparseModelFolder
{
    private const long GiB = 1024L * 1024 * 1024;

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheEstimate_IsWhatMtmdAllocates(bool flashAttention)
    {
        // mtmd needs a text model as wide as the projection; one block of Gemma-3-12B's width loads at once.
        var model = Write(ReleasedModelShapes.Gemma3Dense12B with { BlockCount = 1, SlidingWindow = null, FileType = "F16" }, "gemma-3-12b-one-block");
        var projectorPath = Path.Combine(Folder, "mmproj-gemma-3-12b-f16.gguf");
        GgufModelBuilder.Write(GgufProjectorShape.Gemma3Vision12B, projectorPath);
        var measured = LlamaCppLoadLog.MeasureProjector(model.Path, projectorPath, flashAttention);
        var estimate = ProjectorEstimate.From(new GgufModel([GgufHeaderReader.Read(projectorPath)]), flashAttention);
        BufferTolerance.Within(estimate.WeightsBytes, measured.Weights, 0, "projector weights");
        BufferTolerance.Within(estimate.ComputeBytes, measured.Compute, 0.01, "projector compute buffer");
        Assert.Null(estimate.Caveat);
    }

    [Fact]
    public void AProjectorBesideItsModel_IsPaired_AndChangesThePlanByWhatItTakes()
    {
        var model = Write(ReleasedModelShapes.Gemma3Dense12B, "gemma-3-12b");
        var other = Write(ReleasedModelShapes.Qwen3Dense8B, "qwen3-8b");
        GgufModelBuilder.Write(GgufProjectorShape.Gemma3Vision12B, Path.Combine(Folder, "mmproj-gemma-3-12b-f16.gguf"));
        var projector = ProjectorPairing.FindBeside(model);
        Assert.NotNull(projector);
        Assert.Null(ProjectorPairing.FindBeside(other)); // a 4096-wide model is not fed by a 3840-wide projection

        var settings = new LlamaCppSettings { ContextLength = 8192 };
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "12 GiB", TotalBytes = 12 * GiB, FreeBytes = 12 * GiB }] };
        var plain = FitPlanner.Plan(new LlamaCppModelCost(model), settings, target, maxContext: false);
        var vision = FitPlanner.Plan(new LlamaCppModelCost(model, projector: projector), settings, target, maxContext: false);
        var taken = ProjectorEstimate.From(projector!, flashAttention: false).TotalBytes;
        Assert.Equal(plain.EstimatedGpuBytes + taken, vision.EstimatedGpuBytes);
        Assert.EndsWith($"--mmproj \"{projector!.Path}\"", vision.LlamaCppArguments, StringComparison.Ordinal);
        Assert.Contains("vision projector 'Gemma-3-12B vision (shape only)'", vision.Reason, StringComparison.Ordinal);
    }
}

using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// MoE models that do not fit fully are planned as llama.cpp's --fit plans them: every layer on the GPU and the
/// experts of the fewest leading blocks in host memory (--n-cpu-moe N), layers moving off only when every expert
/// on the host is still too much.
/// </summary>
public sealed class ExpertOffloadTests : SparseModelFolder
{
    private const long GiB = 1024L * 1024 * 1024;
    public static TheoryData<string> MoePresets { get; } = ["SmallMoe", "Qwen35Moe35BA3B", "Qwen3Next80BA3B", "Glm45Air", "Lfm2Moe8BA1B", "Granite4HTiny"];

    private LlamaCppModelCost Cost(string preset)
    {
        var shape = typeof(GgufModelShape).GetProperty(preset)?.GetValue(null) as GgufModelShape
            ?? (GgufModelShape)typeof(ReleasedModelShapes).GetProperty(preset)!.GetValue(null)!;
        var path = Path.Combine(Folder, preset + ".gguf");
        GgufModelBuilder.Write(shape, path);
        return new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)]));
    }

    private static FitTarget Card(long bytes, bool offloadExperts = true) =>
        new() { Gpus = [new GpuTarget { Name = "card", TotalBytes = bytes, FreeBytes = bytes }], HeadroomBytes = 0, OffloadExperts = offloadExperts };

    [Theory]
    [MemberData(nameof(MoePresets))]
    public void EveryBudget_IsUsedUpToTheNextLayersExperts_NeverExceeded_AndNeverBelowCpuMoe(string preset)
    {
        var cost = Cost(preset);
        var settings = new LlamaCppSettings { ContextLength = 8192 };
        var full = cost.Estimate(settings, cost.TotalLayers).GpuBytes;
        var allExpertsOnHost = cost.Estimate(settings with { ExpertsOnHost = true }, cost.TotalLayers).GpuBytes;
        long lastGpuBytes = 0;
        var lastExperts = int.MaxValue;
        for (var step = 0; step <= 40; step++)
        {
            var budget = allExpertsOnHost / 2 + ((full - (allExpertsOnHost / 2)) * step / 40);
            var target = Card(budget);
            var plan = FitPlanner.Plan(cost, settings, target, maxContext: false);
            var cpuMoe = FitPlanner.Plan(cost, settings with { ExpertsOnHost = true }, target, maxContext: false);

            Assert.True(plan.EstimatedGpuBytes <= budget, $"{preset} at {budget}: {plan.EstimatedGpuBytes} over the budget");
            Assert.True(plan.EstimatedGpuBytes >= cpuMoe.EstimatedGpuBytes, $"{preset} at {budget}: {plan.EstimatedGpuBytes} below --cpu-moe's {cpuMoe.EstimatedGpuBytes}");
            if (plan.ExpertLayersOnHost > 0 && plan.GpuLayers == cost.TotalLayers)
            {
                // One block fewer on the host would not fit: no budget is left idle that those experts would fill.
                var oneMore = cost.Estimate(settings with { ExpertLayersOnHost = plan.ExpertLayersOnHost - 1 }, cost.TotalLayers);
                Assert.False(FitPlanner.Fits(oneMore, target), $"{preset} at {budget}: --n-cpu-moe {plan.ExpertLayersOnHost - 1} would fit too");
                Assert.Contains($"--n-cpu-moe {plan.ExpertLayersOnHost}", plan.LlamaCppArguments, StringComparison.Ordinal);
                Assert.Equal(FitKind.Partial, plan.Fit);
            }

            Assert.True(plan.EstimatedGpuBytes >= lastGpuBytes, $"{preset}: more memory gave fewer GPU bytes at {budget}");
            Assert.True(plan.ExpertLayersOnHost <= lastExperts, $"{preset}: more memory kept more experts on the host at {budget}");
            lastGpuBytes = plan.EstimatedGpuBytes;
            lastExperts = plan.ExpertLayersOnHost;
        }
    }

    [Fact]
    public void Qwen35MoeAt131kOn24GiB_KeepsMostExpertsOnTheGpu_WhereCpuMoeWouldLeaveThemIdle()
    {
        var cost = Cost("Qwen35Moe35BA3B");
        var settings = new LlamaCppSettings { ContextLength = 131072 };
        var target = Card(24 * GiB) with { HeadroomBytes = GiB };
        var plan = FitPlanner.Plan(cost, settings, target, maxContext: false);
        var cpuMoe = FitPlanner.Plan(cost, settings with { ExpertsOnHost = true }, target, maxContext: false);
        var layersOnly = FitPlanner.Plan(cost, settings, target with { OffloadExperts = false }, maxContext: false);

        Assert.Equal(cost.TotalLayers, plan.GpuLayers);
        Assert.InRange(plan.ExpertLayersOnHost, 1, 20);
        Assert.True(plan.EstimatedGpuBytes - cpuMoe.EstimatedGpuBytes > 10 * GiB, $"{plan.EstimatedGpuBytes} vs --cpu-moe {cpuMoe.EstimatedGpuBytes}");
        Assert.StartsWith($"-ngl {cost.TotalLayers} -c 131072 -fa off --n-cpu-moe {plan.ExpertLayersOnHost}", plan.LlamaCppArguments, StringComparison.Ordinal);
        Assert.Contains($"experts of the first {plan.ExpertLayersOnHost} of 40 blocks", plan.Reason, StringComparison.Ordinal);
        Assert.True(layersOnly.GpuLayers < cost.TotalLayers);
        Assert.Equal(0, layersOnly.ExpertLayersOnHost);
        Assert.Equal(layersOnly.GpuLayers, plan.OllamaOptions["num_gpu"]);
    }

    [Fact]
    public void DenseModels_AreUntouched()
    {
        var cost = Cost("DenseLlama8B");
        var plan = FitPlanner.Plan(cost, new LlamaCppSettings { ContextLength = 8192 }, Card(3 * GiB), maxContext: false);
        Assert.Equal(0, plan.ExpertLayersOnHost);
        Assert.DoesNotContain("cpu-moe", plan.LlamaCppArguments, StringComparison.Ordinal);
    }
}

/// <summary>-Together: a MoE model joins a set with its experts in host memory when that lets more in.</summary>
public sealed class TogetherExpertOffloadTests : SparseModelFolder
{
    private const long GiB = 1024L * 1024 * 1024;
    public TogetherExpertOffloadTests() => Directory.CreateDirectory(Folder);

    [Fact]
    public void AMoeThatFillsTheCardAlone_SharesItWithADenseModel_KeepingOnlyTheExpertsThatDoNotFit()
    {
        var moe = Write(ReleasedModelShapes.Qwen35Moe35BA3B, "qwen35moe");
        var dense = Write(GgufModelShape.DenseLlama8B, "llama8b");
        var settings = new LlamaCppSettings { ContextLength = 8192 };
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "24 GiB", TotalBytes = 24 * GiB, FreeBytes = 24 * GiB }] };
        Assert.Equal(FitKind.Full, FitPlanner.Plan(moe, settings, target).Fit);

        var set = TogetherPlanner.Plan([moe, dense], settings, target, TogetherPreference.Parameters);
        Assert.All(set, f => Assert.True(f.Selected));
        var moeFit = set.Single(f => f.Model.Architecture == "qwen35moe");
        var denseFit = set.Single(f => f.Model.Architecture == "llama");
        Assert.Equal(FitKind.Full, denseFit.Fit);
        Assert.Equal(FitKind.Partial, moeFit.Fit);
        Assert.Equal(moeFit.TotalLayers, moeFit.GpuLayers);
        Assert.InRange(moeFit.ExpertLayersOnHost, 1, 39);
        Assert.Contains($"--n-cpu-moe {moeFit.ExpertLayersOnHost}", moeFit.LlamaCppArguments, StringComparison.Ordinal);
        Assert.True(moeFit.EstimatedGpuBytes + denseFit.EstimatedGpuBytes <= target.BudgetOf(target.Gpus[0]));

        // One block's experts fewer on the host would not fit beside the dense model.
        var cost = new LlamaCppModelCost(moe);
        var oneMore = cost.Estimate(settings with { ExpertLayersOnHost = moeFit.ExpertLayersOnHost - 1 }, cost.TotalLayers);
        Assert.True(oneMore.GpuBytes + denseFit.EstimatedGpuBytes > target.BudgetOf(target.Gpus[0]));
        Assert.Contains("--n-cpu-moe", moeFit.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WhenEverythingFitsFully_NoExpertLeavesTheGpu()
    {
        var moe = Write(ReleasedModelShapes.Qwen35Moe35BA3B, "qwen35moe");
        var dense = Write(GgufModelShape.DenseLlama8B, "llama8b");
        var target = new FitTarget { Gpus = [new GpuTarget { Name = "80 GiB", TotalBytes = 80 * GiB, FreeBytes = 80 * GiB }] };
        var set = TogetherPlanner.Plan([moe, dense], new LlamaCppSettings { ContextLength = 8192 }, target, TogetherPreference.Parameters);
        Assert.All(set, f => Assert.Equal(FitKind.Full, f.Fit));
        Assert.All(set, f => Assert.Equal(0, f.ExpertLayersOnHost));
    }

    [Fact]
    public void TwoWaysOfLoadingOneModel_AreNeverBothChosen()
    {
        var candidates = new[]
        {
            new TogetherPlanner.Candidate([10L], 5, 0, Group: 0),
            new TogetherPlanner.Candidate([4L], 5, 0, Group: 0, ExpertsOnHost: true),
            new TogetherPlanner.Candidate([6L], 3, 0, Group: 1),
        };
        // Room for all: the model loads fully, not with its experts on the host, and never both ways.
        Assert.Equal([0, 2], TogetherPlanner.Choose(candidates, [100L]).Order().ToArray());
        // Room for 12: only its lean way lets the other model in.
        Assert.Equal([1, 2], TogetherPlanner.Choose(candidates, [12L]).Order().ToArray());
    }
}

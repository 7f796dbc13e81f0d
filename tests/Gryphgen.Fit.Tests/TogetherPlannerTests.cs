using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>-Together picks the best set: checked against an independent brute force on generated cases.</summary>
public sealed class TogetherPlannerTests
{
    private static (double Value, double Tie) BruteForce(IReadOnlyList<TogetherPlanner.Candidate> c, IReadOnlyList<long> budgets, int i = 0, long[]? used = null)
    {
        used ??= new long[budgets.Count];
        if (i == c.Count)
        {
            return (0, 0);
        }

        var best = BruteForce(c, budgets, i + 1, used);
        if (Enumerable.Range(0, budgets.Count).All(d => used[d] + c[i].DeviceBytes[d] <= budgets[d]))
        {
            var next = used.Select((u, d) => u + c[i].DeviceBytes[d]).ToArray();
            var with = BruteForce(c, budgets, i + 1, next);
            with = (with.Value + c[i].Value, with.Tie + c[i].TieBreak);
            if (with.Value > best.Value || (with.Value == best.Value && with.Tie > best.Tie))
            {
                best = with;
            }
        }

        return best;
    }

    [Fact]
    public void Choose_FindsTheOptimalSet_OnGeneratedCases()
    {
        var rng = new Random(60);
        for (var trial = 0; trial < 300; trial++)
        {
            var gpus = rng.Next(1, 3);
            var candidates = Enumerable.Range(0, rng.Next(1, 11)).Select(_ => new TogetherPlanner.Candidate(
                Enumerable.Range(0, gpus).Select(_ => (long)rng.Next(1, 100)).ToArray(), rng.Next(1, 50), rng.Next(0, 5))).ToArray();
            var budgets = Enumerable.Range(0, gpus).Select(_ => (long)rng.Next(1, 250)).ToArray();
            var chosen = TogetherPlanner.Choose(candidates, budgets);
            for (var d = 0; d < gpus; d++)
            {
                Assert.True(chosen.Sum(i => candidates[i].DeviceBytes[d]) <= budgets[d]);
            }

            var best = BruteForce(candidates, budgets);
            Assert.Equal(best.Value, chosen.Sum(i => candidates[i].Value));
            Assert.Equal(best.Tie, chosen.Sum(i => candidates[i].TieBreak));
        }
    }

    [Fact]
    public void Plan_TwoSevenGigabyteModelsOnA16GbCard_LoadsBothAndSaysWhyOthersAreLeftOut()
    {
        var folder = Path.Combine(Path.GetTempPath(), "gryph-together-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            GgufModel Write(GgufModelShape shape, string name)
            {
                var path = Path.Combine(folder, name + ".gguf");
                GgufModelBuilder.Write(shape, path);
                return new GgufModel([GgufHeaderReader.Read(path)]);
            }

            // An 8B at Q8_0 (8.4 GiB), an 8B and a 7B at Q4_K_M (5.5 and 5.2 GiB): all three overflow a 16 GB card's
            // 15 GiB budget; any two fit, and the two 8B models hold the most parameters.
            var models = new[]
            {
                Write(GgufModelShape.DenseLlama8B with { FileType = "Q8_0" }, "llama8b-q8"),
                Write(GgufModelShape.DenseLlama8B, "llama8b-q4"),
                Write(GgufModelShape.SlidingWindow7B, "mistral-q4"),
            };
            var fits = TogetherPlanner.Plan(models, new LlamaCppSettings(), new FitTarget { Gpus = [GpuCatalog.Find("RTX 4080")!] }, TogetherPreference.Parameters);
            var chosen = fits.Where(f => f.Selected == true).Select(f => System.IO.Path.GetFileNameWithoutExtension(f.Model.Path)).OrderBy(n => n).ToArray();
            Assert.Equal(["llama8b-q4", "llama8b-q8"], chosen);
            var left = Assert.Single(fits, f => f.Selected == false);
            Assert.StartsWith("Left out: it needs", left.Reason, StringComparison.Ordinal);
            Assert.Equal("mistral-q4", System.IO.Path.GetFileNameWithoutExtension(left.Model.Path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

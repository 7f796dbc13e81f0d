using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>What -Together maximises over the chosen set.</summary>
public enum TogetherPreference
{
    /// <summary>Most parameters in total (then most models, then least memory).</summary>
    Parameters,

    /// <summary>Most models (then most parameters).</summary>
    Count,

    /// <summary>Most context tokens in total (then most parameters).</summary>
    Context,

    /// <summary>The best total decode speed, tokens a second summed over the set (then most parameters).</summary>
    Speed,
}

/// <summary>
/// Chooses the models to load at once on the same GPU(s), each fully offloaded at its context, each in its own
/// llama.cpp process (so each pays the per-GPU overhead; the headroom is left once). The search is exact over
/// every subset for up to <see cref="ExactLimit"/> candidates; above that it is greedy by value per byte.
/// </summary>
public static class TogetherPlanner
{
    /// <summary>The most candidates searched exactly (2^20 subsets).</summary>
    public const int ExactLimit = 20;

    /// <summary>
    /// One way to load one model in a together-set: the bytes it needs on each GPU, its value for the preference
    /// and a tie-break. <paramref name="Group"/>: candidates of one group are ways to load the same model, so a
    /// set holds at most one of them (-1: a group of its own); <paramref name="ExpertsOnHost"/>: this way keeps
    /// MoE experts in host memory, and a set with fewer such members is preferred at equal value.
    /// </summary>
    public sealed record Candidate(IReadOnlyList<long> DeviceBytes, double Value, double TieBreak, int Group = -1, bool ExpertsOnHost = false);

    /// <summary>Plans every model alone, then picks the best set; returns one fit per model with Selected and Reason set.</summary>
    public static IReadOnlyList<ModelFit> Plan(IReadOnlyList<GgufModel> models, LlamaCppSettings settings, FitTarget target, TogetherPreference prefer)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(target);
        var costs = models.Select(m => new LlamaCppModelCost(m)).ToArray();
        var alone = costs.Select(c => FitPlanner.Plan(c, settings, target, maxContext: false)).ToArray();
        var candidates = new List<(int Index, Candidate C)>();
        for (var i = 0; i < alone.Length; i++)
        {
            if (alone[i].Fit == FitKind.Full)
            {
                candidates.Add((i, ToCandidate(alone[i], prefer) with { Group = i }));
            }

            // A MoE model also joins a set with every layer on the GPU and its experts in host memory (as its
            // --n-cpu-moe plan would), taking as little of the GPUs as it can; the experts that fit beside the rest
            // of the set are brought back once the set is chosen.
            if (target.OffloadExperts && !settings.ExpertsOnHost && costs[i].HasExperts)
            {
                var leanest = costs[i].Estimate(settings with { ExpertLayersOnHost = costs[i].OffloadableBlocks }, costs[i].TotalLayers, target.Split);
                if (FitPlanner.Fits(leanest, target))
                {
                    var c = ToCandidate(alone[i], prefer);
                    if (prefer == TogetherPreference.Speed)
                    {
                        // Experts in host memory decode at the host's pace: value this way of loading by its own speed.
                        c = c with { Value = SpeedEstimator.Estimate(costs[i], leanest, target).DecodeTokensPerSecond ?? 0 };
                    }

                    candidates.Add((i, c with { DeviceBytes = leanest.Devices.Select(d => d.TotalBytes).ToArray(), Group = i, ExpertsOnHost = true }));
                }
            }
        }

        var budgets = target.Gpus.Select(target.BudgetOf).ToArray();
        var chosen = Choose(candidates.Select(c => c.C).ToArray(), budgets);
        var chosenIndex = new HashSet<int>(chosen.Select(k => candidates[k].Index));
        // Every member at its chosen footprint first; then each member loading with experts on the host gives back
        // its own footprint and takes back every block's experts that fit in what the rest leaves it.
        var used = new long[budgets.Length];
        foreach (var k in chosen)
        {
            for (var d = 0; d < used.Length; d++)
            {
                used[d] += candidates[k].C.DeviceBytes[d];
            }
        }

        var lean = new Dictionary<int, ModelFit>();
        foreach (var k in chosen.Where(k => candidates[k].C.ExpertsOnHost))
        {
            var i = candidates[k].Index;
            for (var d = 0; d < used.Length; d++)
            {
                used[d] -= candidates[k].C.DeviceBytes[d];
            }

            var rest = target with
            {
                Gpus = target.Gpus.Select((g, d) => g with { FreeBytes = g.FreeBytes - used[d] }).ToArray(),
                UsablePercent = null,
                HeadroomBytes = target.UsablePercent is null ? target.HeadroomBytes : 0,
            };
            var (placed, _) = FitPlanner.PlaceExperts(costs[i], settings, rest);

            // Planned by layers only: with these experts on the host every layer fits the whole target.
            var plan = FitPlanner.Plan(costs[i], placed, target with { OffloadExperts = false }, maxContext: false);
            lean[i] = plan;
            for (var d = 0; d < used.Length; d++)
            {
                used[d] += plan.Estimate.Devices[d].TotalBytes;
            }
        }

        var left = budgets.Select((b, d) => b - used[d]).ToArray();
        var names = chosenIndex.Select(i => alone[i].Model.Name).ToArray();
        var result = new List<ModelFit>();
        for (var i = 0; i < alone.Length; i++)
        {
            var fit = lean.TryGetValue(i, out var offloaded) ? offloaded : alone[i];
            var freeAfter = target.Gpus.Sum(g => g.FreeBytes) - used.Sum();
            if (chosenIndex.Contains(i))
            {
                var others = names.Where(n => n != fit.Model.Name).ToArray();
                var reason = others.Length == 0
                    ? $"Chosen alone: no other model fits beside it on {target.Name} at its context."
                    : $"Chosen to load together with {string.Join(", ", others)} on {target.Name}; {Bytes.Format(left.Sum())} of the budget stays free.";
                if (offloaded is not null)
                {
                    reason += $" It runs every layer on the GPU with the experts of its first {offloaded.ExpertLayersOnHost} of {costs[i].OffloadableBlocks} blocks in host memory (--n-cpu-moe).";
                }

                result.Add(fit with { Selected = true, Reason = reason, FreeAfterBytes = freeAfter });
            }
            else
            {
                string reason;
                if (fit.Fit != FitKind.Full && !candidates.Any(x => x.Index == i))
                {
                    reason = $"Left out: it does not fit fully on {target.Name} even alone ({fit.Fit}, {fit.GpuLayers} of {fit.TotalLayers} layers).";
                }
                else
                {
                    var need = candidates.Where(x => x.Index == i).Min(x => x.C.DeviceBytes.Sum());
                    reason = $"Left out: it needs {Bytes.Format(need)} but only {Bytes.Format(left.Sum())} stays free beside the chosen set ({string.Join(", ", names)}), which {Describe(prefer)}.";
                }

                result.Add(fit with { Selected = false, Reason = reason });
            }
        }

        return result.OrderByDescending(f => f.Selected == true).ThenBy(f => f.Fit).ThenByDescending(f => f.Model.ParameterCount).ToArray();
    }

    /// <summary>
    /// The indices of the best subset of <paramref name="candidates"/> whose bytes on every GPU stay within
    /// <paramref name="budgets"/>: highest total Value, then TieBreak, then fewest bytes. Exact up to <see cref="ExactLimit"/>.
    /// </summary>
    public static IReadOnlyList<int> Choose(IReadOnlyList<Candidate> candidates, IReadOnlyList<long> budgets)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(budgets);
        var n = candidates.Count;
        if (n > ExactLimit)
        {
            return Greedy(candidates, budgets);
        }

        var best = 0;
        (double V, int L, double T, long B) bestScore = (0, 0, 0, 0);
        var sums = new long[budgets.Count];
        var groups = new HashSet<int>();
        for (var mask = 1; mask < 1 << n; mask++)
        {
            Array.Clear(sums);
            groups.Clear();
            double v = 0, t = 0;
            long bytes = 0;
            var lean = 0;
            var ok = true;
            for (var i = 0; i < n && ok; i++)
            {
                if ((mask & (1 << i)) == 0)
                {
                    continue;
                }

                // Two ways of loading the same model are never both in a set.
                ok &= candidates[i].Group < 0 || groups.Add(candidates[i].Group);
                v += candidates[i].Value;
                t += candidates[i].TieBreak;
                lean += candidates[i].ExpertsOnHost ? 1 : 0;
                for (var d = 0; d < sums.Length; d++)
                {
                    sums[d] += candidates[i].DeviceBytes[d];
                    bytes += candidates[i].DeviceBytes[d];
                    ok &= sums[d] <= budgets[d];
                }
            }

            if (ok && Better((v, lean, t, bytes), bestScore, best == 0))
            {
                best = mask;
                bestScore = (v, lean, t, bytes);
            }
        }

        return Enumerable.Range(0, n).Where(i => (best & (1 << i)) != 0).ToArray();
    }

    /// <summary>Higher value first; at equal value fewer members with experts in host memory (they run slower), then the tie-break, then fewer bytes.</summary>
    private static bool Better((double V, int L, double T, long B) a, (double V, int L, double T, long B) b, bool bIsEmpty) =>
        bIsEmpty || a.V > b.V || (a.V == b.V && (a.L < b.L || (a.L == b.L && (a.T > b.T || (a.T == b.T && a.B < b.B)))));

    private static int[] Greedy(IReadOnlyList<Candidate> candidates, IReadOnlyList<long> budgets)
    {
        var sums = new long[budgets.Count];
        var chosen = new List<int>();
        var groups = new HashSet<int>();
        foreach (var i in Enumerable.Range(0, candidates.Count).OrderByDescending(i => candidates[i].Value / Math.Max(1, candidates[i].DeviceBytes.Sum())))
        {
            var c = candidates[i];
            if ((c.Group < 0 || !groups.Contains(c.Group)) && Enumerable.Range(0, sums.Length).All(d => sums[d] + c.DeviceBytes[d] <= budgets[d]))
            {
                if (c.Group >= 0)
                {
                    groups.Add(c.Group);
                }

                for (var d = 0; d < sums.Length; d++)
                {
                    sums[d] += c.DeviceBytes[d];
                }

                chosen.Add(i);
            }
        }

        return chosen.ToArray();
    }

    private static Candidate ToCandidate(ModelFit fit, TogetherPreference prefer)
    {
        var bytes = fit.Estimate.Devices.Select(d => d.TotalBytes).ToArray();
        double parameters = fit.Model.ParameterCount;
        return prefer switch
        {
            TogetherPreference.Count => new Candidate(bytes, 1, parameters),
            TogetherPreference.Context => new Candidate(bytes, fit.ContextLength, parameters),
            TogetherPreference.Speed => new Candidate(bytes, fit.DecodeTokensPerSecond ?? 0, parameters),
            _ => new Candidate(bytes, parameters, 1),
        };
    }

    private static string Describe(TogetherPreference prefer) => prefer switch
    {
        TogetherPreference.Count => "holds the most models",
        TogetherPreference.Context => "holds the most context",
        TogetherPreference.Speed => "decodes the most tokens a second in total",
        _ => "holds the most parameters",
    };
}

using System.Diagnostics;
using System.Globalization;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using LLama.Common;
using LLama.Extensions;
using LLama.Native;

namespace Gryphgen.Bench;

/// <summary>
/// Planning time: every released-model preset planned with the largest context that fits (Select-ModelForGpu
/// -MaxContext) and all of them planned together (-Together), in milliseconds, beside the time llama.cpp itself
/// takes to size the same file and context without allocating it (the no_alloc load its own --fit uses): the only
/// other way to learn whether a model fits.
/// </summary>
internal static class FitBenchmark
{
    public static int Run(string[] args)
    {
        var rounds = int.Parse(BenchArguments.Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        var folder = Path.Combine(Path.GetTempPath(), "gryph-bench-fit-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        try
        {
            var presets = typeof(ReleasedModelShapes).GetProperties()
                .Select(p => (p.Name, Shape: (GgufModelShape)p.GetValue(null)!))
                .Append(("DenseLlama8B", GgufModelShape.DenseLlama8B))
                .ToArray();
            var models = new List<(string Name, string Path, GgufModel Model)>();
            foreach (var (name, shape) in presets)
            {
                var path = Path.Combine(folder, name + ".gguf");
                GgufModelBuilder.Write(shape, path);
                models.Add((name, path, new GgufModel([GgufHeaderReader.Read(path)])));
            }

            var target = new FitTarget { Gpus = [new GpuTarget { Name = "24 GiB", TotalBytes = 24L << 30, FreeBytes = 24L << 30 }] };
            var settings = new LlamaCppSettings { ContextLength = 32768 };
            NativeLibraryConfig.All.WithLogCallback((_, _) => { });
            double planTotal = 0, llamaTotal = 0;
            foreach (var (name, path, model) in models)
            {
                FitPlanner.Plan(new LlamaCppModelCost(model), settings, target, maxContext: true); // warm-up
                var clock = Stopwatch.StartNew();
                ModelFit? fit = null;
                for (var r = 0; r < rounds; r++)
                {
                    fit = FitPlanner.Plan(new LlamaCppModelCost(new GgufModel([GgufHeaderReader.Read(path)])), settings, target, maxContext: true);
                }

                var plan = clock.Elapsed.TotalMilliseconds / rounds;
                SizeWithLlamaCpp(path, (uint)fit!.ContextLength); // warm-up
                clock.Restart();
                for (var r = 0; r < rounds; r++)
                {
                    SizeWithLlamaCpp(path, (uint)fit.ContextLength);
                }

                var llama = clock.Elapsed.TotalMilliseconds / rounds;
                planTotal += plan;
                llamaTotal += llama;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fit: {name,-18} -MaxContext plan (header read included) {plan,8:F2} ms ({fit.Fit}, {fit.ContextLength} tokens); llama.cpp sizing one context {llama,8:F2} ms; ratio {plan / llama:F3}"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fit: all {models.Count} presets: plans {planTotal:F1} ms, llama.cpp sizing {llamaTotal:F1} ms (one context each, where the plan searched every context); ratio {planTotal / llamaTotal:F3}"));
            var all = models.Select(m => m.Model).ToArray();
            TogetherPlanner.Plan(all, settings with { ContextLength = 8192 }, target, TogetherPreference.Parameters);
            var together = Stopwatch.StartNew();
            for (var r = 0; r < rounds; r++)
            {
                TogetherPlanner.Plan(all, settings with { ContextLength = 8192 }, target, TogetherPreference.Parameters);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fit: -Together over all {models.Count} presets at 8192 tokens: {together.Elapsed.TotalMilliseconds / rounds:F2} ms"));
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What llama.cpp's --fit does per try: load the model and create a context without allocating either.</summary>
    private static void SizeWithLlamaCpp(string path, uint context)
    {
        var p = new ModelParams(path) { ContextSize = context, GpuLayerCount = 0, Threads = 1, LoadMode = LLamaLoadMode.None };
        using (p.ToLlamaModelParams(out var model))
        {
            model.use_extra_bufts = false;
            model.no_alloc = true;
            using var handle = SafeLlamaModelHandle.LoadFromFile(path, model);
            p.ToLlamaContextParams(out var ctx);
            ctx.swa_full = false;
            using var context2 = SafeLLamaContextHandle.Create(handle, ctx);
        }
    }
}

using Gryphgen.Core.Gguf;
using LLama.Native;

namespace Gryphgen.Fit.Tests;

public sealed class LlamaCppProbe
{
    [SkippableFact]
    public void Probe_DumpsLogLines()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("GRYPH_PROBE") == "1", "probe only");
        var dir = Path.Combine(Path.GetTempPath(), "gryph-fit-probe");
        Directory.CreateDirectory(dir);
        var files = new List<string> { Path.Combine(SharedTestData.Folder("gguf"), "llama-2-tiny-random.gguf") };
        foreach (var (name, shape) in new[] { ("dense8b", GgufModelShape.DenseLlama8B), ("moe", GgufModelShape.SmallMoe), ("swa", GgufModelShape.SlidingWindow7B), ("perlayer", GgufModelShape.PerLayerKvHeads) })
        {
            var f = Path.Combine(dir, name + ".gguf");
            if (!File.Exists(f)) GgufModelBuilder.Write(shape, f);
            files.Add(f);
        }
        using var w = new StreamWriter(Path.Combine(dir, "probe.txt"));
        foreach (var f in files)
        {
            foreach (var (ctx, ct, fa) in new[] { (1000u, GGMLType.GGML_TYPE_F16, false), (4096u, GGMLType.GGML_TYPE_Q8_0, true), (8192u, GGMLType.GGML_TYPE_Q4_0, true) })
            {
                var b = LlamaCppLoadLog.Measure(f, ctx, ct, fa);
                w.WriteLine($"== {Path.GetFileName(f)} ctx={ctx} ct={ct} fa={fa}: model={b.Model} kv={b.Kv} out={b.Output} compute={b.Compute}");
                foreach (var l in b.Lines) w.WriteLine("   " + l);
            }
        }
    }
}

using System.Globalization;

namespace Gryphgen.Fit.Tests;

/// <summary>One row of tests/data/llama-bench-published.csv.</summary>
internal sealed record PublishedBenchRow(
    string Card, string Backend, string Gpu, string ModelId, string Quant, string Ngl, string Test, double TokensPerSecond, string Condition, string Source)
{
    /// <summary>The file type the row's quant column names, as the project's GGUF builder takes it (UD and mixed variants by their base type).</summary>
    public string FileType => Quant.Split(' ', '(')[0].ToUpperInvariant() switch
    {
        "Q4_K" => "Q4_K_M",
        "MXFP4" => "MXFP4_MOE",
        var other => other,
    };

    /// <summary>Whether every layer was offloaded (llama-bench's -ngl 99 and the like, or not printed in a developer's compare table).</summary>
    public bool FullOffload => Ngl.Length == 0 || (int.TryParse(Ngl, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 99);

    public override string ToString() => $"{Card} | {Backend} | {ModelId} {Quant} | ngl {Ngl} | {Test}";
}

/// <summary>Reads the published llama-bench table.</summary>
internal static class PublishedBench
{
    public static string TablePath
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "data", "llama-bench-published.csv");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("tests/data/llama-bench-published.csv not found above " + AppContext.BaseDirectory);
        }
    }

    public static IReadOnlyList<PublishedBenchRow> Read()
    {
        var lines = File.ReadAllLines(TablePath);
        var header = Split(lines[0]);
        int Col(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new InvalidDataException($"The table has no column '{name}'.");
        var rows = new List<PublishedBenchRow>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var f = Split(line);
            rows.Add(new PublishedBenchRow(f[Col("card")], f[Col("backend")], f[Col("gpu")], f[Col("model_id")], f[Col("quant")], f[Col("ngl")], f[Col("test")],
                double.Parse(f[Col("tokens_per_second")], CultureInfo.InvariantCulture), f[Col("condition")], f[Col("source")]));
        }

        return rows;
    }

    private static string[] Split(string line) => Gryphgen.Core.Gpu.CsvLine.Split(line).ToArray();
}

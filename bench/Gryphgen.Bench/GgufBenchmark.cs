using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gryphgen.Core.Gguf;
using Gryphgen.Core.Gguf.Discovery;

namespace Gryphgen.Bench;

/// <summary>
/// (a) Headers per second on the shared GGUF files, ours against @huggingface/gguf (node) reading the same files
/// in the same run; (b) Find over a generated tree of 10 000 files holding 100 models, cold and warm.
/// </summary>
internal static class GgufBenchmark
{
    public static int Run(string[] args)
    {
        var root = BenchArguments.RepositoryRoot();
        var files = BenchArguments.Option(args, "--files") ?? Path.GetFullPath(Path.Combine(root, "..", "shared", "testdata", "gguf"));
        var rounds = int.Parse(BenchArguments.Option(args, "--rounds") ?? "200", CultureInfo.InvariantCulture);
        var treeFiles = int.Parse(BenchArguments.Option(args, "--tree-files") ?? "10000", CultureInfo.InvariantCulture);
        var treeModels = int.Parse(BenchArguments.Option(args, "--tree-models") ?? "100", CultureInfo.InvariantCulture);

        if (Directory.Exists(files))
        {
            Headers(root, Directory.GetFiles(files, "*.gguf").Order(StringComparer.Ordinal).ToArray(), rounds);
        }
        else
        {
            Console.WriteLine($"gguf headers: skipped, '{files}' is missing");
        }

        Scan(treeFiles, treeModels);
        return 0;
    }

    private static void Headers(string root, string[] files, int rounds)
    {
        foreach (var f in files)
        {
            GgufHeaderReader.Read(f); // warm-up: JIT and page cache
        }

        var clock = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++)
        {
            foreach (var f in files)
            {
                GgufHeaderReader.Read(f);
            }
        }

        var ours = clock.Elapsed.TotalSeconds / (rounds * files.Length);
        Console.WriteLine($"gguf headers: Gryphgen {1 / ours:N0} headers/s ({ours * 1e6:N0} us per file, {files.Length} files x {rounds} rounds)");

        var reference = Path.Combine(root, "tools", "gguf-reference");
        if (!Directory.Exists(Path.Combine(reference, "node_modules", "@huggingface", "gguf")) && !RunProcess("npm", reference, out _, "ci", "--no-audit", "--no-fund", "--prefer-offline"))
        {
            Console.WriteLine("gguf headers: @huggingface/gguf baseline skipped (npm ci failed)");
            return;
        }

        const int referenceRounds = 3;
        if (!RunProcess("node", reference, out var json, ["gguf-dump.mjs", "--bench", referenceRounds.ToString(CultureInfo.InvariantCulture), .. files]))
        {
            Console.WriteLine("gguf headers: @huggingface/gguf baseline skipped (node failed)");
            return;
        }

        using var result = JsonDocument.Parse(json);
        var theirs = result.RootElement.GetProperty("seconds").GetDouble() / (referenceRounds * files.Length);
        Console.WriteLine($"gguf headers: @huggingface/gguf 0.4.6 {1 / theirs:N0} headers/s ({theirs * 1e3:N1} ms per file)");
        Console.WriteLine($"gguf headers: ratio {theirs / ours:N0}x faster (target >= 100x)");
    }

    private static void Scan(int fileCount, int modelCount)
    {
        var dir = Directory.CreateTempSubdirectory("gryphgen-bench-tree-");
        try
        {
            var models = GgufBenchTree.Create(dir.FullName, fileCount, modelCount);
            var cold = Stopwatch.StartNew();
            var found = Find(dir.FullName);
            cold.Stop();
            var warm = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var clock = Stopwatch.StartNew();
                found = Find(dir.FullName);
                warm.Add(clock.Elapsed.TotalSeconds);
            }

            warm.Sort();
            Console.WriteLine($"gguf scan: {fileCount} files holding {models} models: found {found}; first run {cold.Elapsed.TotalMilliseconds:N0} ms, warm median {warm[warm.Count / 2] * 1e3:N0} ms (target < 1000 ms)");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static int Find(string path) => new GgufModelFinder().Find([path]).Count(r => r.Model is not null);

    private static bool RunProcess(string program, string workingDirectory, out string output, params string[] arguments)
    {
        output = string.Empty;
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine(stderr.Result);
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Console.Error.WriteLine($"{program}: {ex.Message}");
            return false;
        }
    }
}

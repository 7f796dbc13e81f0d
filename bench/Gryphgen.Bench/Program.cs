// Gryphgen benchmarks. Usage: dotnet run -c Release --project bench/Gryphgen.Bench -- <subcommand> [options]
//   gguf [--files DIR] [--rounds N]   GGUF header reading vs @huggingface/gguf, and a scan of a generated tree
using Gryphgen.Bench;

var command = args.Length > 0 ? args[0] : "help";
var rest = args.Skip(1).ToArray();
return command switch
{
    "gguf" => GgufBenchmark.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Gryphgen.Bench gguf [--files DIR] [--rounds N] [--tree-files N] [--tree-models N]");
    return 2;
}

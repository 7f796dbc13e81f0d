// Gryphgen benchmarks. Usage: dotnet run -c Release --project bench/Gryphgen.Bench -- <subcommand> [options]
//   gguf [--files DIR] [--rounds N]   GGUF header reading vs @huggingface/gguf, and a scan of a generated tree
//   fifo [--round-trips N] [--bulk-messages N]   FIFO round trips vs fifo_pingpong.c, bulk and contended throughput
//   bus [--round-trips N] [--messages N] [--bulk-messages N]   the same over NATS on loopback (a nats-server started here)
//   fit [--rounds N]   planning every released-model preset (-MaxContext, -Together) beside llama.cpp sizing the same file
using Gryphgen.Bench;

var command = args.Length > 0 ? args[0] : "help";
var rest = args.Skip(1).ToArray();
return command switch
{
    "gguf" => GgufBenchmark.Run(rest),
    "fifo" => FifoBenchmark.Run(rest),
    "fifo-echo" or "fifo-send" or "fifo-codec" => FifoBenchmark.RunChild(command, rest),
    "bus" => BusBenchmark.Run(rest),
    "fit" => FitBenchmark.Run(rest),
    "bus-echo" => BusBenchmark.RunEcho(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Gryphgen.Bench gguf [--files DIR] [--rounds N] [--tree-files N] [--tree-models N]");
    return 2;
}

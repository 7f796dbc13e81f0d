using System.Runtime.CompilerServices;

namespace Gryphgen.Core.Native;

/// <summary>
/// Marks the code every message passes through: <c>[MethodImpl(HotPath.Options)]</c>.
/// </summary>
/// <remarks>
/// Such methods are compiled fully optimised at first call instead of climbing the runtime's tiers. In a
/// conversation between two processes, tiering left the sender and receiver running instrumented (profiling)
/// code for the whole of a 200 000-message run (perf: samples in <c>[InstrumentedTier]</c> code to the end), and
/// optimising these methods up front took the round-trip median from 40 to 36 us on one CPU (A/B, README
/// "Benchmarks"). The cost is a few milliseconds of compilation when a pipe is first used.
/// </remarks>
internal static class HotPath
{
    public const MethodImplOptions Options = MethodImplOptions.AggressiveOptimization;
}

namespace Gryphgen.Fit.Tests;

/// <summary>How the accuracy tests compare an estimate with a size llama.cpp printed in MiB with two decimals.</summary>
internal static class BufferTolerance
{
    /// <summary>llama.cpp's rounding of a MiB figure to two decimals, with a little room.</summary>
    public const double Rounding = 0.006 * 1024 * 1024;

    /// <summary>"estimate/measured MiB (deviation %)" for the test's output.</summary>
    public static string Dev(long estimate, long measured) =>
        $"{estimate / 1048576.0:F2}/{measured / 1048576.0:F2} MiB ({(measured == 0 ? 0 : 100.0 * (estimate - measured) / measured):+0.0;-0.0;0.0}%)";

    /// <summary>Asserts the estimate is within <paramref name="tolerance"/> (a fraction) of llama.cpp's figure, or within its rounding.</summary>
    public static void Within(long estimate, long measured, double tolerance, string what)
    {
        var allowed = Math.Max(measured * tolerance, Rounding);
        Assert.True(Math.Abs(estimate - measured) <= allowed,
            $"{what}: estimated {estimate} bytes, llama.cpp {measured} bytes (allowed ±{allowed:F0}).");
    }
}

using System.Globalization;

namespace Gryphgen.Core;

/// <summary>
/// How every view and message writes a size: binary units, labelled as such (B, KiB, MiB, GiB, TiB), with one
/// decimal above bytes. PowerShell's 1KB/1MB/1GB are binary too, so what a table shows and what a user types agree.
/// </summary>
public static class ByteSize
{
    private static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>E.g. 512 B, 500.0 KiB, 4.1 GiB: below 1000 of a unit, so a size never takes more than 9 characters.</summary>
    public static string Format(long bytes, IFormatProvider? culture = null)
    {
        culture ??= CultureInfo.CurrentCulture;
        if (bytes is > -1000 and < 1000)
        {
            return bytes.ToString("0", culture) + " B";
        }

        var value = Math.Abs((double)bytes) / 1024;
        var unit = 0;
        // 1000 KiB and up reads as 1.0 MiB; rounding to one decimal must not make it 1000.0 either.
        while (Math.Round(value, 1) >= 1000 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return (bytes < 0 ? "-" : string.Empty) + value.ToString("0.0", culture) + " " + Units[unit];
    }
}

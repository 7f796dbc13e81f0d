using System.Globalization;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Turns the text values of nvidia-smi, amd-smi and rocm-smi into numbers. Any token that is not a number
/// (<c>[N/A]</c>, <c>N/A</c>, <c>[Not Supported]</c>, <c>[Insufficient Permissions]</c>, <c>[Unknown Error]</c>,
/// <c>[Requested functionality has been deprecated]</c>, <c>Requested functionality has been deprecated</c>, an
/// empty string...) becomes null rather than an exception.
/// </summary>
internal static class GpuValueParser
{
    private const long Mebibyte = 1024L * 1024L;

    /// <summary>Returns the trimmed text, or null for an unavailable-value token.</summary>
    public static string? Text(string? raw)
    {
        if (raw is null)
        {
            return null;
        }

        var text = raw.Trim();
        if (text.Length == 0 || IsUnavailable(text))
        {
            return null;
        }

        return text;
    }

    private static bool IsUnavailable(string text) =>
        (text.StartsWith('[') && text.EndsWith(']'))
        || text.Equals("N/A", StringComparison.OrdinalIgnoreCase)
        || text.Equals("Not Supported", StringComparison.OrdinalIgnoreCase)
        || text.Equals("Not Available", StringComparison.OrdinalIgnoreCase)
        || text.Equals("Insufficient Permissions", StringComparison.OrdinalIgnoreCase)
        || text.Equals("Unknown Error", StringComparison.OrdinalIgnoreCase)
        || text.Equals("Requested functionality has been deprecated", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Parses the leading number of a value such as <c>52 %</c>, <c>66.92 W</c>, <c>1410 MHz</c>, <c>(300Mhz)</c>
    /// or <c>53.0</c>; null when there is none.
    /// </summary>
    public static double? Number(string? raw) => Split(raw)?.Value;

    /// <summary>The leading number rounded to an integer, or null.</summary>
    public static int? Integer(string? raw) => Number(raw) is { } value ? (int)Math.Round(value, MidpointRounding.AwayFromZero) : null;

    /// <summary>
    /// A memory amount in bytes. The unit in the value wins (<c>11175 MiB</c>, <c>8 GiB</c>, <c>512 KiB</c>,
    /// <c>1024 B</c>); a bare number takes <paramref name="defaultUnit"/>. amd-smi's <c>MB</c> is MiB
    /// (it divides bytes by 1024*1024), and so are nvidia-smi's MiB.
    /// </summary>
    public static long? Bytes(string? raw, string defaultUnit = "MiB")
    {
        if (Split(raw) is not { } parsed)
        {
            return null;
        }

        var unit = parsed.Unit.Length == 0 ? defaultUnit : parsed.Unit;
        return UnitFactor(unit) is { } factor ? (long)Math.Round(parsed.Value * factor) : null;
    }

    /// <summary>Bytes per unit, treating the decimal-looking prefixes as the binary ones the GPU tools mean.</summary>
    public static long? UnitFactor(string unit) => unit.Trim().ToUpperInvariant() switch
    {
        "B" or "BYTES" => 1,
        "KIB" or "KB" or "K" => 1024,
        "MIB" or "MB" or "M" => Mebibyte,
        "GIB" or "GB" or "G" => Mebibyte * 1024,
        "TIB" or "TB" or "T" => Mebibyte * 1024 * 1024,
        _ => null,
    };

    private static (double Value, string Unit)? Split(string? raw)
    {
        var text = Text(raw);
        if (text is null)
        {
            return null;
        }

        text = text.Trim('(', ')', ' ');
        var end = 0;
        if (end < text.Length && (text[end] == '-' || text[end] == '+'))
        {
            end++;
        }

        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
        {
            end++;
        }

        if (!double.TryParse(text.AsSpan(0, end), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        return (value, text[end..].Trim());
    }
}

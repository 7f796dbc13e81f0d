using System.Globalization;
using System.Text.RegularExpressions;

namespace Gryphgen.Core.Gguf;

/// <summary>The parts of a split model's file name: "name-00001-of-00003.gguf" (llama.cpp's llama_split_path).</summary>
public sealed partial record GgufSplitName(string Prefix, int Number, int Count)
{
    [GeneratedRegex(@"^(?<prefix>.+)-(?<no>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static GgufSplitName? Parse(string fileName)
    {
        var m = Pattern().Match(fileName);
        if (!m.Success)
        {
            return null;
        }

        var no = int.Parse(m.Groups["no"].Value, CultureInfo.InvariantCulture);
        var count = int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
        return no >= 1 && count >= 1 && no <= count ? new GgufSplitName(m.Groups["prefix"].Value, no, count) : null;
    }

    /// <summary>The file name of shard <paramref name="number"/> of this split.</summary>
    public string FileNameOf(int number) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}-{number:D5}-of-{Count:D5}.gguf");
}

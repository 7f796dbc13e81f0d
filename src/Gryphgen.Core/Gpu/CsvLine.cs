using System.Text;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Splits one CSV line, honouring RFC 4180 quotes (<c>"a, b"</c>, doubled <c>""</c>). nvidia-smi itself never
/// quotes, so a process name with a comma arrives as extra fields; <see cref="Fit"/> gives those back to the
/// one column that can hold them, reading the other columns from both ends of the line.
/// </summary>
internal static class CsvLine
{
    public static List<string> Split(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var atFieldStart = true;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
                atFieldStart = true;
                continue;
            }
            else if (c == '"' && atFieldStart && current.ToString().Trim().Length == 0)
            {
                current.Clear();
                quoted = true;
            }
            else
            {
                current.Append(c);
            }

            if (!char.IsWhiteSpace(c))
            {
                atFieldStart = false;
            }
        }

        fields.Add(current.ToString());
        return fields;
    }

    /// <summary>
    /// Makes <paramref name="fields"/> exactly <paramref name="expected"/> long: when there are more, the fields
    /// before <paramref name="absorbingColumn"/> are read from the start, those after it from the end, and the
    /// rest are joined back (with the commas they lost) into that column.
    /// </summary>
    public static IReadOnlyList<string> Fit(List<string> fields, int expected, int absorbingColumn)
    {
        if (fields.Count <= expected || absorbingColumn < 0 || absorbingColumn >= expected)
        {
            return fields;
        }

        var extra = fields.Count - expected;
        var fitted = new List<string>(expected);
        fitted.AddRange(fields.Take(absorbingColumn));
        fitted.Add(string.Join(",", fields.Skip(absorbingColumn).Take(extra + 1)));
        fitted.AddRange(fields.Skip(absorbingColumn + extra + 1));
        return fitted;
    }
}

using System.Globalization;

namespace Gryphgen.Core;

/// <summary>
/// A read-only list whose text is its items joined with ", ", so that Export-Csv, ConvertTo-Csv and string
/// interpolation write what the list holds instead of its type name. It is an IList like an array, so PowerShell
/// enumerates it, indexes it and takes an empty one as false (<c>if ($pipe.Readers)</c>), and ConvertTo-Json
/// writes an array.
/// </summary>
public sealed class TextList<T> : System.Collections.ObjectModel.ReadOnlyCollection<T>
{
    internal TextList(IList<T> items)
        : base(items)
    {
    }

    public override string ToString() =>
        string.Join(", ", this.Select(i => Convert.ToString(i, CultureInfo.InvariantCulture)));
}

/// <summary>Makes <see cref="TextList{T}"/>s; a list that is one already is kept as it is.</summary>
public static class TextList
{
    public static TextList<T> Empty<T>() => EmptyTextList<T>.Instance;

    public static TextList<T> Of<T>(IReadOnlyList<T>? items) => items switch
    {
        null => Empty<T>(),
        TextList<T> list => list,
        { Count: 0 } => Empty<T>(),
        IList<T> list => new TextList<T>(list),
        _ => new TextList<T>(items.ToArray()),
    };

    private static class EmptyTextList<T>
    {
        public static readonly TextList<T> Instance = new(Array.Empty<T>());
    }
}

/// <summary>
/// Read-only string pairs whose text is "key=value; key=value", so a message's Metadata reads in a CSV cell. A
/// dictionary underneath, so ConvertTo-Json still writes an object.
/// </summary>
public sealed class TextMap : System.Collections.ObjectModel.ReadOnlyDictionary<string, string>
{
    private TextMap(IDictionary<string, string> pairs)
        : base(pairs)
    {
    }

    public static new TextMap Empty { get; } = new(new Dictionary<string, string>());

    public static TextMap Of(IReadOnlyDictionary<string, string>? pairs) => pairs switch
    {
        null => Empty,
        TextMap map => map,
        { Count: 0 } => Empty,
        IDictionary<string, string> dictionary => new TextMap(dictionary),
        _ => new TextMap(pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)),
    };

    public override string ToString() => string.Join("; ", this.Select(p => p.Key + "=" + p.Value));
}

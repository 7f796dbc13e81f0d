using System.Globalization;

namespace Gryphgen.Core.Gguf;

/// <summary>
/// A metadata array. Small arrays (per-layer head counts, a few hundred numbers) are read with the header;
/// large ones (a 150 k-token vocabulary, its scores and merges) are only stepped over: the reader records where
/// they start, their element type and count, and allocates nothing until <see cref="ToArray"/> is called.
/// </summary>
public sealed class GgufArray
{
    private readonly Array? _values;
    private readonly Func<GgufSource>? _open;
    private readonly long _offset;
    private readonly int _version;
    private readonly bool _bigEndian;
    private readonly int _depth;

    private GgufArray(GgufValueType elementType, long count, Array? values, Func<GgufSource>? open, long offset, int version, bool bigEndian, int depth)
    {
        ElementType = elementType;
        Count = count;
        _values = values;
        _open = open;
        _offset = offset;
        _version = version;
        _bigEndian = bigEndian;
        _depth = depth;
    }

    public GgufValueType ElementType { get; }

    /// <summary>Number of elements, known without loading them.</summary>
    public long Count { get; }

    /// <summary>Where the elements start in the file (0 for arrays made in memory), for messages.</summary>
    internal long Offset => _offset;

    /// <summary>True when the values are in memory; false when <see cref="ToArray"/> will read them from the file.</summary>
    public bool IsLoaded => _values is not null;

    /// <summary>
    /// An array for the writer or a test. <paramref name="values"/> must be an array of the element type's .NET
    /// type: byte[] for UInt8, string[] for String, GgufArray[] for nested arrays, and so on.
    /// </summary>
    public static GgufArray Create(GgufValueType elementType, Array values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var expected = GgufValueTypes.ClrType(elementType);
        if (values.GetType().GetElementType() != expected)
        {
            throw new ArgumentException($"A {elementType} array needs a {expected.Name}[], not {values.GetType().Name}.", nameof(values));
        }

        return new GgufArray(elementType, values.Length, values, null, 0, 3, false, 0);
    }

    internal static GgufArray Loaded(GgufValueType elementType, Array values) => new(elementType, values.Length, values, null, 0, 3, false, 0);

    internal static GgufArray Deferred(GgufValueType elementType, long count, Func<GgufSource> open, long offset, int version, bool bigEndian, int depth)
        => new(elementType, count, null, open, offset, version, bigEndian, depth);

    /// <summary>
    /// The values as a typed array (byte[], int[], float[], string[], GgufArray[]...). For a deferred array this
    /// reads the file again; the result is not cached, so keep it if you need it twice.
    /// </summary>
    public Array ToArray()
    {
        if (_values is not null)
        {
            return _values;
        }

        using var source = _open!();
        using var reader = new GgufByteReader(source, _offset) { Version = _version, BigEndian = _bigEndian };
        return GgufMetadataReader.ReadArrayValues(reader, ElementType, Count, _depth, _open!, eagerLimit: long.MaxValue);
    }

    /// <summary>The values as <typeparamref name="T"/>[]; T must be the element type's .NET type.</summary>
    public T[] ToArray<T>() => ToArray() as T[]
        ?? throw new InvalidCastException($"This is a {ElementType} array; ask for {GgufValueTypes.ClrType(ElementType).Name}[].");

    /// <summary>The values widened to long, for integer arrays of any width (per-layer head counts).</summary>
    public long[] ToInt64Array()
    {
        var values = ToArray();
        var result = new long[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values.GetValue(i) switch
            {
                ulong u => unchecked((long)u),
                bool b => b ? 1 : 0,
                IConvertible c when ElementType is not (GgufValueType.String or GgufValueType.Float32 or GgufValueType.Float64) => c.ToInt64(CultureInfo.InvariantCulture),
                _ => throw new InvalidCastException($"A {ElementType} array has no integer values."),
            };
        }

        return result;
    }

    public override string ToString() => $"{ElementType}[{Count}]";
}

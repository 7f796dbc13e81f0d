using System.Globalization;

namespace Gryphgen.Core.Gguf;

/// <summary>
/// One metadata value with its GGUF type. <see cref="Value"/> holds byte, sbyte, ushort, short, uint, int,
/// float, bool, string, ulong, long, double or <see cref="GgufArray"/>.
/// </summary>
public sealed class GgufValue
{
    public GgufValue(GgufValueType type, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var expected = GgufValueTypes.ClrType(type);
        if (value.GetType() != expected)
        {
            throw new ArgumentException($"A {type} value must be a {expected.Name}, not a {value.GetType().Name}.", nameof(value));
        }

        Type = type;
        Value = value;
    }

    public GgufValueType Type { get; }

    public object Value { get; }

    /// <summary>The value as a long when it is an integer (of any width) that fits; otherwise null.</summary>
    public long? AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => null,
    };

    /// <summary>The value as an int when it is an integer that fits; otherwise null.</summary>
    public int? AsInt32() => AsInt64() is { } v && v is >= int.MinValue and <= int.MaxValue ? (int)v : null;

    public double? AsDouble() => Value switch
    {
        float f => f,
        double d => d,
        _ => AsInt64(),
    };

    public string? AsString() => Value as string;

    public GgufArray? AsArray() => Value as GgufArray;

    public static GgufValue From(byte value) => new(GgufValueType.UInt8, value);

    public static GgufValue From(sbyte value) => new(GgufValueType.Int8, value);

    public static GgufValue From(ushort value) => new(GgufValueType.UInt16, value);

    public static GgufValue From(short value) => new(GgufValueType.Int16, value);

    public static GgufValue From(uint value) => new(GgufValueType.UInt32, value);

    public static GgufValue From(int value) => new(GgufValueType.Int32, value);

    public static GgufValue From(float value) => new(GgufValueType.Float32, value);

    public static GgufValue From(bool value) => new(GgufValueType.Bool, value);

    public static GgufValue From(string value) => new(GgufValueType.String, value);

    public static GgufValue From(GgufArray value) => new(GgufValueType.Array, value);

    public static GgufValue From(ulong value) => new(GgufValueType.UInt64, value);

    public static GgufValue From(long value) => new(GgufValueType.Int64, value);

    public static GgufValue From(double value) => new(GgufValueType.Float64, value);

    public override string ToString() => Value switch
    {
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? string.Empty,
    };
}

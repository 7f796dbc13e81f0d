namespace Gryphgen.Core.Gguf;

/// <summary>
/// Reads metadata values (gguf.md, "gguf_metadata_value_t"). Arrays longer than the eager limit are stepped over
/// and returned as deferred <see cref="GgufArray"/>s: a vocabulary then costs a walk over its string lengths and
/// no allocation.
/// </summary>
internal static class GgufMetadataReader
{
    /// <summary>Arrays up to this many elements are read with the header (per-layer values, small lists).</summary>
    public const long EagerArrayLimit = 1024;

    /// <summary>Arrays of arrays deeper than this are refused: no real file nests, and it bounds recursion.</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>Keys are short dotted names; llama.cpp's longest are under 100 bytes.</summary>
    public const int MaxKeyBytes = 64 * 1024;

    /// <summary>
    /// The longest string value read, alone or in an array: chat templates, the longest real strings, are tens of
    /// kilobytes. A claim past this is an error, so a lying length cannot make the reader allocate gigabytes.
    /// </summary>
    public const int MaxStringValueBytes = 16 * 1024 * 1024;

    public static GgufValueType ReadType(GgufByteReader reader, string what)
    {
        var start = reader.Position;
        var type = reader.ReadUInt32(what);
        if (!GgufValueTypes.IsDefined(type))
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"{what} is {type}, which is not a GGUF value type", start);
        }

        return (GgufValueType)type;
    }

    public static object ReadValue(GgufByteReader reader, GgufValueType type, Func<GgufSource> open, int depth) => type switch
    {
        GgufValueType.UInt8 => reader.ReadByte("a uint8 value"),
        GgufValueType.Int8 => (sbyte)reader.ReadByte("an int8 value"),
        GgufValueType.UInt16 => reader.ReadUInt16("a uint16 value"),
        GgufValueType.Int16 => (short)reader.ReadUInt16("an int16 value"),
        GgufValueType.UInt32 => reader.ReadUInt32("a uint32 value"),
        GgufValueType.Int32 => (int)reader.ReadUInt32("an int32 value"),
        GgufValueType.Float32 => reader.ReadSingle("a float32 value"),
        GgufValueType.Bool => ReadBool(reader),
        GgufValueType.String => reader.ReadString("a string value", MaxStringValueBytes),
        GgufValueType.UInt64 => reader.ReadUInt64("a uint64 value"),
        GgufValueType.Int64 => (long)reader.ReadUInt64("an int64 value"),
        GgufValueType.Float64 => reader.ReadDouble("a float64 value"),
        GgufValueType.Array => ReadArray(reader, open, depth, EagerArrayLimit),
        _ => throw reader.Error(GgufFormatError.InvalidFormat, $"value type {type} is not a GGUF value type"),
    };

    private static bool ReadBool(GgufByteReader reader)
    {
        var start = reader.Position;
        var b = reader.ReadByte("a bool value");
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw reader.Error(GgufFormatError.InvalidFormat, $"a bool value is {b}, neither 0 nor 1", start),
        };
    }

    /// <summary>The least number of bytes one element of this type can take: what a count is checked against.</summary>
    private static int MinElementSize(GgufByteReader reader, GgufValueType type) => type switch
    {
        GgufValueType.String => reader.CountSize,
        GgufValueType.Array => 4 + reader.CountSize,
        _ => GgufValueTypes.FixedSize(type),
    };

    public static GgufArray ReadArray(GgufByteReader reader, Func<GgufSource> open, int depth, long eagerLimit)
    {
        if (depth >= MaxArrayDepth)
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"arrays are nested more than {MaxArrayDepth} deep");
        }

        var elementType = ReadType(reader, "an array's element type");
        var count = reader.ReadCheckedCount(MinElementSize(reader, elementType), "an array's length");
        if (count <= eagerLimit && reader.TryLoad(count))
        {
            return GgufArray.Loaded(elementType, ReadArrayValues(reader, elementType, count, depth + 1, open, eagerLimit));
        }

        var offset = reader.Position;
        SkipArrayValues(reader, elementType, count, depth + 1);
        return GgufArray.Deferred(elementType, count, open, offset, reader.Version, reader.BigEndian, depth + 1);
    }

    public static Array ReadArrayValues(GgufByteReader reader, GgufValueType type, long count, int depth, Func<GgufSource> open, long eagerLimit)
    {
        // The caller proved count * MinElementSize fits in what is left of the file, so these allocations are
        // bounded by the file's size; a sparse file can still claim more elements than one .NET array holds.
        if (count > Array.MaxLength)
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"an array of {count} elements is longer than the {Array.MaxLength} that can be loaded at once");
        }

        reader.Walk(count, "an array's elements");
        var n = (int)count;
        switch (type)
        {
            case GgufValueType.UInt8: return Fill(n, () => reader.ReadByte("a uint8 element"));
            case GgufValueType.Int8: return Fill(n, () => (sbyte)reader.ReadByte("an int8 element"));
            case GgufValueType.UInt16: return Fill(n, () => reader.ReadUInt16("a uint16 element"));
            case GgufValueType.Int16: return Fill(n, () => (short)reader.ReadUInt16("an int16 element"));
            case GgufValueType.UInt32: return Fill(n, () => reader.ReadUInt32("a uint32 element"));
            case GgufValueType.Int32: return Fill(n, () => (int)reader.ReadUInt32("an int32 element"));
            case GgufValueType.Float32: return Fill(n, () => reader.ReadSingle("a float32 element"));
            case GgufValueType.Bool: return Fill(n, () => ReadBool(reader));
            case GgufValueType.String: return Fill(n, () => reader.ReadString("a string element", MaxStringValueBytes));
            case GgufValueType.UInt64: return Fill(n, () => reader.ReadUInt64("a uint64 element"));
            case GgufValueType.Int64: return Fill(n, () => (long)reader.ReadUInt64("an int64 element"));
            case GgufValueType.Float64: return Fill(n, () => reader.ReadDouble("a float64 element"));
            case GgufValueType.Array: return Fill(n, () => ReadArray(reader, open, depth, eagerLimit));
            default: throw reader.Error(GgufFormatError.InvalidFormat, $"element type {type} is not a GGUF value type");
        }
    }

    private static T[] Fill<T>(int n, Func<T> read)
    {
        var values = new T[n];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = read();
        }

        return values;
    }

    /// <summary>Steps over array elements without keeping them: fixed-size ones in one jump, strings one length at a time.</summary>
    public static void SkipArrayValues(GgufByteReader reader, GgufValueType type, long count, int depth)
    {
        switch (type)
        {
            case GgufValueType.String:
                reader.SkipStrings(count, "a string element");
                break;
            case GgufValueType.Array:
                if (depth >= MaxArrayDepth)
                {
                    throw reader.Error(GgufFormatError.InvalidFormat, $"arrays are nested more than {MaxArrayDepth} deep");
                }

                reader.Walk(count, "an array of arrays");
                for (long i = 0; i < count; i++)
                {
                    var inner = ReadType(reader, "an array's element type");
                    var innerCount = reader.ReadCheckedCount(MinElementSize(reader, inner), "an array's length");
                    SkipArrayValues(reader, inner, innerCount, depth + 1);
                }

                break;
            default:
                reader.Skip(count * GgufValueTypes.FixedSize(type), $"{count} {type} elements");
                break;
        }
    }
}

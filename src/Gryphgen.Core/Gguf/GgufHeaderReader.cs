namespace Gryphgen.Core.Gguf;

/// <summary>
/// Reads a GGUF header (gguf.md): magic, version, tensor and metadata counts, the metadata pairs, the tensor
/// table and the start of the data section. It never reads tensor data. Supports v1 (32-bit counts), v2, v3 and
/// big-endian v3 (told apart by the byte order of the version field). Every count and length is checked against
/// what is left of the file before anything is allocated or looped over, and bad data raises only
/// <see cref="GgufFormatException"/>; I/O failures (missing file, permission) surface as the usual IOException
/// and UnauthorizedAccessException.
/// </summary>
public static class GgufHeaderReader
{
    /// <summary>"GGUF" as the first four bytes of the file, whatever the byte order.</summary>
    public static ReadOnlySpan<byte> Magic => "GGUF"u8;

    public const uint DefaultAlignment = 32;

    /// <summary>ggml's GGML_MAX_DIMS: a tensor has 1 to 4 dimensions.</summary>
    public const int MaxDimensions = 4;

    private const int MaxTensorNameBytes = 64 * 1024;

    public static GgufHeader Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var source = GgufFileSource.Open(path);
        var fullPath = path;
        return Read(source, () => GgufFileSource.Open(fullPath));
    }

    /// <summary>Reads a header from bytes in memory; <paramref name="name"/> stands for the path in messages.</summary>
    public static GgufHeader Read(byte[] data, string name = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(data);
        var source = new GgufMemorySource(name, data);
        return Read(source, () => source);
    }

    /// <summary>Reads a header from the first <paramref name="length"/> bytes of <paramref name="data"/>.</summary>
    internal static GgufHeader Read(byte[] data, int length, string name)
    {
        var source = new GgufMemorySource(name, data, length);
        return Read(source, () => source);
    }

    /// <summary>True when the file starts with the GGUF magic. Reads 4 bytes; a FIFO or device is refused, never opened.</summary>
    public static bool HasMagic(string path)
    {
        using var handle = RegularFile.OpenForReading(path);
        Span<byte> head = stackalloc byte[4];
        return RandomAccess.Read(handle, head, 0) == 4 && head.SequenceEqual(Magic);
    }

    internal static GgufHeader Read(GgufSource source, Func<GgufSource> reopen)
    {
        using var reader = new GgufByteReader(source);
        try
        {
            return ReadHeader(reader, reopen);
        }
        catch (OverflowException ex)
        {
            throw new GgufFormatException(GgufFormatError.InvalidFormat, source.Name, reader.Position, "sizes in the header overflow 64 bits: " + ex.Message);
        }
    }

    private static GgufHeader ReadHeader(GgufByteReader reader, Func<GgufSource> reopen)
    {
        if (reader.Length < 4)
        {
            throw reader.Error(GgufFormatError.NotGguf, $"the file is {reader.Length} bytes, too short for the GGUF magic");
        }

        var magic = new[] { reader.ReadByte("the magic"), reader.ReadByte("the magic"), reader.ReadByte("the magic"), reader.ReadByte("the magic") };
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            throw reader.Error(GgufFormatError.NotGguf, "the file does not start with the GGUF magic", 0);
        }

        var version = ReadVersion(reader);
        reader.Version = version;

        // Minimal sizes: a tensor info is a name length, n_dims, type and offset; a pair a key length, a type and one byte.
        var tensorCount = reader.ReadCheckedCount(reader.CountSize + 4 + 4 + 8, "the tensor count");
        var kvCount = reader.ReadCheckedCount(reader.CountSize + 4 + 1, "the metadata pair count");

        var metadata = new GgufMetadata((int)Math.Min(kvCount, 4096));
        for (long i = 0; i < kvCount; i++)
        {
            var keyStart = reader.Position;
            var key = reader.ReadString("a metadata key", GgufMetadataReader.MaxKeyBytes);
            var type = GgufMetadataReader.ReadType(reader, $"the type of '{key}'");
            var value = new GgufValue(type, GgufMetadataReader.ReadValue(reader, type, reopen, 0));
            if (!metadata.TryAdd(key, value))
            {
                throw reader.Error(GgufFormatError.InvalidFormat, $"metadata key '{key}' appears twice", keyStart);
            }
        }

        var alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var alignmentValue))
        {
            if (alignmentValue.Value is not uint a || a == 0 || (a & (a - 1)) != 0)
            {
                throw reader.Error(GgufFormatError.InvalidFormat, $"general.alignment is {alignmentValue.Type} {alignmentValue}, not a uint32 power of two");
            }

            alignment = a;
        }

        // Grown as entries are read, not sized by the count: a sparse file can back a count of billions with a hole
        // that fails on its first entry.
        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 4096));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            tensors.Add(ReadTensorInfo(reader, alignment, names));
        }

        var dataOffset = tensorCount == 0 ? reader.Position : AlignUp(reader.Position, alignment);
        var header = new GgufHeader(reader.Path, version, reader.BigEndian, reader.Length, metadata, tensors, alignment, dataOffset);
        if (tensorCount > 0 && header.DataEnd > reader.Length)
        {
            throw reader.Error(GgufFormatError.Truncated, $"the tensor data ends at byte {header.DataEnd}, past the end of the {reader.Length}-byte file", reader.Length);
        }

        return header;
    }

    private static int ReadVersion(GgufByteReader reader)
    {
        var start = reader.Position;
        var version = reader.ReadUInt32("the version");
        if (version is >= 1 and <= 3)
        {
            return (int)version;
        }

        var swapped = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(version);
        if (swapped is >= 1 and <= 3)
        {
            reader.BigEndian = true;
            return (int)swapped;
        }

        throw reader.Error(GgufFormatError.InvalidFormat, $"GGUF version {version} is not supported (1, 2 and 3 are)", start);
    }

    private static GgufTensorInfo ReadTensorInfo(GgufByteReader reader, uint alignment, HashSet<string> names)
    {
        var start = reader.Position;
        var name = reader.ReadString("a tensor name", MaxTensorNameBytes);
        var dimCount = reader.ReadUInt32($"the dimension count of tensor '{name}'");
        if (dimCount is 0 or > MaxDimensions)
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"tensor '{name}' has {dimCount} dimensions (1 to {MaxDimensions} allowed)", start);
        }

        var dims = new long[dimCount];
        long elements = 1;
        for (var d = 0; d < dims.Length; d++)
        {
            var dim = reader.Version == 1 ? reader.ReadUInt32("a tensor dimension") : reader.ReadUInt64("a tensor dimension");
            if (dim > long.MaxValue)
            {
                throw reader.Error(GgufFormatError.InvalidFormat, $"tensor '{name}' has dimension {dim}, which is negative as int64", start);
            }

            dims[d] = (long)dim;
            if (!TryMultiply(elements, dims[d], out elements))
            {
                throw reader.Error(GgufFormatError.InvalidFormat, $"tensor '{name}' has more than 2^63 elements", start);
            }
        }

        var typeId = reader.ReadUInt32($"the type of tensor '{name}'");
        var type = GgmlTypes.Get(typeId);
        if (type.IsKnown && dims[0] % type.BlockSize != 0)
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"tensor '{name}' has rows of {dims[0]} elements, not a multiple of the {type.Name} block size {type.BlockSize}", start);
        }

        var offset = reader.ReadUInt64($"the offset of tensor '{name}'");
        if (offset % alignment != 0 || offset > long.MaxValue)
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"tensor '{name}' has offset {offset}, not a multiple of the alignment {alignment}", start);
        }

        if (!names.Add(name))
        {
            throw reader.Error(GgufFormatError.InvalidFormat, $"tensor '{name}' appears twice", start);
        }

        return new GgufTensorInfo(name, dims, (GgmlType)typeId, offset);
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        var p = (Int128)a * b;
        product = p > long.MaxValue ? long.MaxValue : (long)p;
        return p <= long.MaxValue;
    }

    internal static long AlignUp(long value, uint alignment) => checked((value + alignment - 1) / alignment * alignment);
}

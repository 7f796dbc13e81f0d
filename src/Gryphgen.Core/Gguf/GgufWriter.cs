using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gryphgen.Core.Gguf;

/// <summary>
/// Writes GGUF files: any metadata of every type and a tensor table, laid out as gguf.cpp lays them out (each
/// tensor's data aligned to general.alignment). The data section is not written but left as a hole by setting
/// the file's length, so on a file system with sparse files an 8-billion-parameter-shaped Q4_K_M model takes
/// seconds and a few megabytes of disk. Tests use it for v1, v2 and big-endian files; later issues for
/// realistic models (<see cref="GgufModelBuilder"/>).
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<GgufTensorInfo> _tensors = [];
    private long _dataLength;

    /// <param name="version">GGUF version to write: 1 (32-bit counts), 2 or 3.</param>
    /// <param name="bigEndian">Write the big-endian variant.</param>
    public GgufWriter(int version = 3, bool bigEndian = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, 3);
        Version = version;
        BigEndian = bigEndian;
    }

    public int Version { get; }

    public bool BigEndian { get; }

    /// <summary>general.alignment when set as a uint32, otherwise 32. Set it before adding tensors.</summary>
    public uint Alignment => _metadata.FirstOrDefault(e => e.Key == "general.alignment").Value?.Value is uint a && a > 0 ? a : GgufHeaderReader.DefaultAlignment;

    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>Bytes of the data section, including the padding after each tensor.</summary>
    public long DataLength => _dataLength;

    /// <summary>Sets a metadata pair; a key set twice keeps its first position and takes the new value.</summary>
    public GgufWriter Set(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == "general.alignment" && _tensors.Count > 0)
        {
            throw new InvalidOperationException("Set general.alignment before adding tensors: their offsets depend on it.");
        }

        var i = _metadata.FindIndex(e => e.Key == key);
        if (i >= 0)
        {
            _metadata[i] = new(key, value);
        }
        else
        {
            _metadata.Add(new(key, value));
        }

        return this;
    }

    public GgufWriter SetString(string key, string value) => Set(key, GgufValue.From(value));

    public GgufWriter SetUInt32(string key, uint value) => Set(key, GgufValue.From(value));

    public GgufWriter SetFloat32(string key, float value) => Set(key, GgufValue.From(value));

    public GgufWriter SetBool(string key, bool value) => Set(key, GgufValue.From(value));

    /// <summary>Sets an array; <paramref name="values"/> is a typed array as for <see cref="GgufArray.Create"/>.</summary>
    public GgufWriter SetArray(string key, GgufValueType elementType, Array values) => Set(key, GgufValue.From(GgufArray.Create(elementType, values)));

    /// <summary>Adds a tensor (dimensions in ggml order, row length first) at the next aligned offset.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, params long[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        var offset = GgufHeaderReader.AlignUp(_dataLength, Alignment);
        var tensor = new GgufTensorInfo(name, (long[])dimensions.Clone(), type, (ulong)offset);
        var size = tensor.ByteSize ?? throw new ArgumentException($"Tensor '{name}': {tensor.TypeName} needs rows that are a multiple of its block size; [{string.Join(", ", dimensions)}] are not.", nameof(dimensions));
        _tensors.Add(tensor);
        _dataLength = GgufHeaderReader.AlignUp(offset + size, Alignment);
        return this;
    }

    /// <summary>The header and tensor table, padded to the start of the data section.</summary>
    public byte[] GetHeaderBytes()
    {
        var output = new ArrayBufferWriter<byte>(4096);
        output.Write(GgufHeaderReader.Magic);
        WriteUInt32(output, (uint)Version);
        WriteCount(output, (ulong)_tensors.Count);
        WriteCount(output, (ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(output, key);
            WriteUInt32(output, (uint)value.Type);
            WriteValue(output, value.Type, value.Value);
        }

        foreach (var t in _tensors)
        {
            WriteString(output, t.Name);
            WriteUInt32(output, (uint)t.Dimensions.Count);
            foreach (var d in t.Dimensions)
            {
                if (Version == 1)
                {
                    WriteUInt32(output, checked((uint)d));
                }
                else
                {
                    WriteUInt64(output, (ulong)d);
                }
            }

            WriteUInt32(output, (uint)t.Type);
            WriteUInt64(output, t.Offset);
        }

        if (_tensors.Count > 0)
        {
            var padding = (int)(GgufHeaderReader.AlignUp(output.WrittenCount, Alignment) - output.WrittenCount);
            output.GetSpan(padding)[..padding].Clear();
            output.Advance(padding);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes the header, then extends the stream over the data section without writing it.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = GetHeaderBytes();
        stream.Write(header);
        if (_dataLength > 0)
        {
            stream.SetLength(stream.Position + _dataLength);
        }
    }

    /// <summary>Creates (or replaces) a file: real header, sparse data section. Returns the file's length.</summary>
    public long Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        Write(stream);
        return stream.Length;
    }

    private void WriteValue(IBufferWriter<byte> output, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: WriteByte(output, (byte)value); break;
            case GgufValueType.Int8: WriteByte(output, unchecked((byte)(sbyte)value)); break;
            case GgufValueType.UInt16: WriteUInt16(output, (ushort)value); break;
            case GgufValueType.Int16: WriteUInt16(output, unchecked((ushort)(short)value)); break;
            case GgufValueType.UInt32: WriteUInt32(output, (uint)value); break;
            case GgufValueType.Int32: WriteUInt32(output, unchecked((uint)(int)value)); break;
            case GgufValueType.Float32: WriteUInt32(output, unchecked((uint)BitConverter.SingleToInt32Bits((float)value))); break;
            case GgufValueType.Bool: WriteByte(output, (bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(output, (string)value); break;
            case GgufValueType.UInt64: WriteUInt64(output, (ulong)value); break;
            case GgufValueType.Int64: WriteUInt64(output, unchecked((ulong)(long)value)); break;
            case GgufValueType.Float64: WriteUInt64(output, unchecked((ulong)BitConverter.DoubleToInt64Bits((double)value))); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                var items = array.ToArray();
                WriteUInt32(output, (uint)array.ElementType);
                WriteCount(output, (ulong)items.Length);
                foreach (var item in items)
                {
                    WriteValue(output, array.ElementType, item!);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Not a GGUF value type.");
        }
    }

    private void WriteCount(IBufferWriter<byte> output, ulong count)
    {
        if (Version == 1)
        {
            WriteUInt32(output, checked((uint)count));
        }
        else
        {
            WriteUInt64(output, count);
        }
    }

    private void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteCount(output, (ulong)length);
        var span = output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        output.Advance(length);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private void WriteUInt16(IBufferWriter<byte> output, ushort value)
    {
        var span = output.GetSpan(2);
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span, value);
        }

        output.Advance(2);
    }

    private void WriteUInt32(IBufferWriter<byte> output, uint value)
    {
        var span = output.GetSpan(4);
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span, value);
        }

        output.Advance(4);
    }

    private void WriteUInt64(IBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(8);
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt64BigEndian(span, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span, value);
        }

        output.Advance(8);
    }
}

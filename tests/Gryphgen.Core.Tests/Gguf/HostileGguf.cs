using System.Buffers.Binary;
using System.Text;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>
/// Writes GGUF v3 headers byte by byte, lies included: counts and lengths the writer would never produce, and a
/// file length set past the header so the lie is backed by a sparse hole (zeros on read, nothing on disk).
/// </summary>
internal sealed class HostileGguf
{
    private readonly List<byte> _pairs = [];
    private readonly List<byte> _tensors = [];
    private int _pairCount;
    private int _tensorCount;

    public HostileGguf String(string key, string value)
    {
        Key(key, GgufValueType.String);
        Bytes(_pairs, Encoding.UTF8.GetBytes(value), withLength: true);
        return this;
    }

    public HostileGguf UInt32(string key, uint value)
    {
        Key(key, GgufValueType.UInt32);
        UInt32(_pairs, value);
        return this;
    }

    /// <summary>A string value whose length prefix claims <paramref name="length"/> bytes and is followed by none.</summary>
    public HostileGguf StringClaiming(string key, ulong length)
    {
        Key(key, GgufValueType.String);
        UInt64(_pairs, length);
        return this;
    }

    /// <summary>An array whose header claims <paramref name="count"/> elements of <paramref name="elementType"/>, followed by none.</summary>
    public HostileGguf ArrayClaiming(string key, GgufValueType elementType, ulong count)
    {
        Key(key, GgufValueType.Array);
        UInt32(_pairs, (uint)elementType);
        UInt64(_pairs, count);
        return this;
    }

    /// <summary>A tensor table entry; a type id ggml does not know makes its data size unknown, so any shape passes.</summary>
    public HostileGguf Tensor(string name, uint typeId, ulong offset, params ulong[] dimensions)
    {
        _tensorCount++;
        Bytes(_tensors, Encoding.UTF8.GetBytes(name), withLength: true);
        UInt32(_tensors, (uint)dimensions.Length);
        foreach (var d in dimensions)
        {
            UInt64(_tensors, d);
        }

        UInt32(_tensors, typeId);
        UInt64(_tensors, offset);
        return this;
    }

    /// <summary>The header alone: magic, version 3, counts, pairs; the tensor table last when the claims come first.</summary>
    public byte[] ToBytes()
    {
        var file = new List<byte>("GGUF"u8.ToArray());
        UInt32(file, 3);
        UInt64(file, (ulong)_tensorCount);
        UInt64(file, (ulong)_pairCount);
        file.AddRange(_pairs);
        file.AddRange(_tensors);
        return file.ToArray();
    }

    /// <summary>Writes the header and makes the file <paramref name="extraBytes"/> longer: a hole, so a lying count fits.</summary>
    public string WriteSparse(string path, long extraBytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var header = ToBytes();
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(header);
        stream.SetLength(header.Length + extraBytes);
        return path;
    }

    private void Key(string key, GgufValueType type)
    {
        _pairCount++;
        Bytes(_pairs, Encoding.UTF8.GetBytes(key), withLength: true);
        UInt32(_pairs, (uint)type);
    }

    private static void Bytes(List<byte> to, byte[] bytes, bool withLength)
    {
        if (withLength)
        {
            UInt64(to, (ulong)bytes.Length);
        }

        to.AddRange(bytes);
    }

    private static void UInt32(List<byte> to, uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        to.AddRange(b);
    }

    private static void UInt64(List<byte> to, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        to.AddRange(b);
    }
}

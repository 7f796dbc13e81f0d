namespace Gryphgen.Core.Gguf;

/// <summary>Everything a GGUF file says before its tensor data: version, metadata and tensor table.</summary>
public sealed class GgufHeader
{
    internal GgufHeader(string path, int version, bool bigEndian, long fileLength, GgufMetadata metadata, IReadOnlyList<GgufTensorInfo> tensors, uint alignment, long dataOffset)
    {
        Path = path;
        Version = version;
        IsBigEndian = bigEndian;
        FileLength = fileLength;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;

        long parameters = 0;
        long dataSize = 0;
        long dataEnd = 0;
        var sizesKnown = true;
        foreach (var t in tensors)
        {
            parameters = checked(parameters + t.ElementCount);
            if (t.ByteSize is { } size)
            {
                dataSize = checked(dataSize + size);
                dataEnd = Math.Max(dataEnd, checked((long)t.Offset + size));
            }
            else
            {
                sizesKnown = false;
            }
        }

        ParameterCount = parameters;
        TensorDataSize = dataSize;
        HasUnknownTensorTypes = !sizesKnown;
        DataEnd = tensors.Count == 0 ? DataOffset : checked(DataOffset + dataEnd);
    }

    /// <summary>The same header reported under another path (the symlink a user reached the file through).</summary>
    public GgufHeader WithPath(string path) => new(path, Version, IsBigEndian, FileLength, Metadata, Tensors, Alignment, DataOffset);

    /// <summary>The file (or in-memory name) the header was read from.</summary>
    public string Path { get; }

    /// <summary>GGUF version: 1, 2 or 3.</summary>
    public int Version { get; }

    /// <summary>True for the big-endian variant (s390x builds of llama.cpp).</summary>
    public bool IsBigEndian { get; }

    /// <summary>Length of the file in bytes when it was read.</summary>
    public long FileLength { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Alignment of tensor data: general.alignment, 32 when absent.</summary>
    public uint Alignment { get; }

    /// <summary>Absolute byte offset where the data section starts (end of the tensor table, padded to Alignment).</summary>
    public long DataOffset { get; }

    /// <summary>Absolute byte offset just past the last tensor's data; DataOffset when there are no tensors.</summary>
    public long DataEnd { get; }

    /// <summary>Sum of every tensor's element count: the model's parameter count.</summary>
    public long ParameterCount { get; }

    /// <summary>Sum of every tensor's data size in bytes (tensors of unknown type count as 0).</summary>
    public long TensorDataSize { get; }

    /// <summary>True when a tensor has a type id this reader does not know, so TensorDataSize is a lower bound.</summary>
    public bool HasUnknownTensorTypes { get; }

    /// <summary>general.architecture, e.g. "llama".</summary>
    public string? Architecture => Metadata.GetString("general.architecture");

    /// <summary>Looks up <c>&lt;architecture&gt;.&lt;suffix&gt;</c>, e.g. ArchitectureKey("context_length") is "llama.context_length".</summary>
    public GgufValue? GetArchitectureValue(string suffix)
        => Architecture is { } arch && Metadata.TryGetValue(arch + "." + suffix, out var v) ? v : null;
}

namespace Gryphgen.Core.Gguf;

/// <summary>
/// One entry of the tensor table: name, shape in ggml order (Dimensions[0] is the row length, the fastest-varying
/// axis), element type and offset of its data relative to the start of the data section.
/// </summary>
public sealed class GgufTensorInfo
{
    public GgufTensorInfo(string name, IReadOnlyList<long> dimensions, GgmlType type, ulong offset)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        Name = name;
        Dimensions = TextList.Of(dimensions);
        Type = type;
        Offset = offset;
        long elements = 1;
        foreach (var d in dimensions)
        {
            elements = checked(elements * d);
        }

        ElementCount = elements;
        ByteSize = GgmlTypes.ByteSize(type, elements);
    }

    public string Name { get; }

    public IReadOnlyList<long> Dimensions { get; }

    public GgmlType Type { get; }

    /// <summary>The type's name, e.g. "Q4_K"; "unknown(45)" for an id this reader does not know.</summary>
    public string TypeName => GgmlTypes.Get(Type).Name;

    /// <summary>Byte offset of the data, relative to the data section.</summary>
    public ulong Offset { get; }

    public long ElementCount { get; }

    /// <summary>Bytes of data: elements / block size * bytes per block; null when the type is unknown.</summary>
    public long? ByteSize { get; }

    public override string ToString() => $"{Name} {TypeName} [{string.Join(", ", Dimensions)}]";
}

using System.Buffers.Binary;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>What a field of a GGUF header is, so a structure-aware mutation knows which lies to tell in it.</summary>
internal enum GgufField
{
    TensorCount,
    PairCount,
    KeyLength,
    ValueType,
    StringLength,
    ArrayElementType,
    ArrayCount,
    TensorNameLength,
    DimensionCount,
    Dimension,
    TensorType,
    TensorOffset,
}

/// <summary>Where each count, length, type tag and tensor field of a valid v3 little-endian header sits.</summary>
internal static class GgufLayout
{
    public static List<(int Offset, GgufField Field)> Of(byte[] file)
    {
        var fields = new List<(int, GgufField)>();
        var at = 8;
        ulong U64(GgufField field)
        {
            fields.Add((at, field));
            var v = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at));
            at += 8;
            return v;
        }

        uint U32(GgufField field)
        {
            fields.Add((at, field));
            var v = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
            at += 4;
            return v;
        }

        void Value(GgufValueType type)
        {
            switch (type)
            {
                case GgufValueType.String:
                    var length = (int)U64(GgufField.StringLength); // read first: U64 moves 'at'
                    at += length;
                    break;
                case GgufValueType.Array:
                    var element = (GgufValueType)U32(GgufField.ArrayElementType);
                    var count = U64(GgufField.ArrayCount);
                    if (element is GgufValueType.String or GgufValueType.Array)
                    {
                        for (ulong i = 0; i < count; i++)
                        {
                            Value(element);
                        }
                    }
                    else
                    {
                        at += (int)count * GgufValueTypes.FixedSize(element);
                    }

                    break;
                default:
                    at += GgufValueTypes.FixedSize(type);
                    break;
            }
        }

        var tensors = U64(GgufField.TensorCount);
        var pairs = U64(GgufField.PairCount);
        for (ulong p = 0; p < pairs; p++)
        {
            var keyLength = (int)U64(GgufField.KeyLength);
            at += keyLength;
            Value((GgufValueType)U32(GgufField.ValueType));
        }

        for (ulong t = 0; t < tensors; t++)
        {
            var nameLength = (int)U64(GgufField.TensorNameLength);
            at += nameLength;
            var dims = U32(GgufField.DimensionCount);
            for (var d = 0; d < dims; d++)
            {
                U64(GgufField.Dimension);
            }

            U32(GgufField.TensorType);
            U64(GgufField.TensorOffset);
        }

        return fields;
    }
}

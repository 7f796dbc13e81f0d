using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>Random metadata of every type (nested arrays included, some long enough to be read lazily) and random tensor tables.</summary>
internal static class RandomGguf
{
    private static readonly string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ._-<>{}%\u00e9\u00df\u4e2d\u6587\U0001F600\n\t\"\\";

    public static GgufWriter Writer(Random random, int version, bool bigEndian, int tensors)
    {
        var writer = new GgufWriter(version, bigEndian);
        writer.SetString("general.architecture", "llama");
        if (random.Next(2) == 0)
        {
            writer.SetUInt32("general.alignment", 1u << random.Next(3, 8));
        }

        foreach (GgufValueType type in Enum.GetValues<GgufValueType>())
        {
            for (var k = 0; k < 3; k++)
            {
                writer.Set($"test.{type}.{k}", Value(random, type, depth: 0));
            }
        }

        // Arrays long enough to be stepped over lazily by the reader.
        writer.SetArray("test.long.strings", GgufValueType.String, Enumerable.Range(0, 1500).Select(_ => String(random)).ToArray());
        writer.SetArray("test.long.bytes", GgufValueType.UInt8, Enumerable.Range(0, 3000).Select(_ => (byte)random.Next(256)).ToArray());
        writer.SetArray("test.long.nested", GgufValueType.Array, Enumerable.Range(0, 1100).Select(_ => GgufArray.Create(GgufValueType.Int16, new[] { (short)random.Next(short.MinValue, short.MaxValue) })).ToArray());

        var types = GgmlTypes.Known.ToArray();
        for (var t = 0; t < tensors; t++)
        {
            var type = types[random.Next(types.Length)];
            var dims = new long[random.Next(1, 5)];
            dims[0] = type.BlockSize * random.Next(1, 4);
            for (var d = 1; d < dims.Length; d++)
            {
                dims[d] = random.Next(1, 9);
            }

            writer.AddTensor($"blk.{t}.{String(random)}", (GgmlType)type.Id, dims);
        }

        return writer;
    }

    public static string String(Random random)
    {
        var length = random.Next(0, 24);
        var chars = new System.Text.StringBuilder();
        for (var i = 0; i < length; i++)
        {
            // Alphabet holds one surrogate pair (the emoji); take it whole.
            var c = random.Next(Alphabet.Length);
            if (char.IsHighSurrogate(Alphabet[c]))
            {
                chars.Append(Alphabet, c, 2);
            }
            else if (!char.IsLowSurrogate(Alphabet[c]))
            {
                chars.Append(Alphabet[c]);
            }
        }

        return chars.ToString();
    }

    public static GgufValue Value(Random random, GgufValueType type, int depth) => type switch
    {
        GgufValueType.UInt8 => GgufValue.From((byte)random.Next(256)),
        GgufValueType.Int8 => GgufValue.From((sbyte)random.Next(-128, 128)),
        GgufValueType.UInt16 => GgufValue.From((ushort)random.Next(65536)),
        GgufValueType.Int16 => GgufValue.From((short)random.Next(short.MinValue, short.MaxValue + 1)),
        GgufValueType.UInt32 => GgufValue.From((uint)random.NextInt64(uint.MaxValue + 1L)),
        GgufValueType.Int32 => GgufValue.From(random.Next(int.MinValue, int.MaxValue)),
        GgufValueType.Float32 => GgufValue.From(Float(random)),
        GgufValueType.Bool => GgufValue.From(random.Next(2) == 1),
        GgufValueType.String => GgufValue.From(String(random)),
        GgufValueType.UInt64 => GgufValue.From((ulong)random.NextInt64() * 2 + (ulong)random.Next(2)),
        GgufValueType.Int64 => GgufValue.From(random.NextInt64(long.MinValue, long.MaxValue)),
        GgufValueType.Float64 => GgufValue.From(random.Next(10) == 0 ? double.NegativeInfinity : (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30))),
        GgufValueType.Array => GgufValue.From(Array(random, depth)),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static float Float(Random random) => random.Next(10) switch
    {
        0 => float.PositiveInfinity,
        1 => -0.0f,
        _ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-20, 20))),
    };

    private static GgufArray Array(Random random, int depth)
    {
        var types = Enum.GetValues<GgufValueType>().Where(t => t != GgufValueType.Array || depth < 2).ToArray();
        var elementType = types[random.Next(types.Length)];
        var count = random.Next(0, 6);
        var values = System.Array.CreateInstance(GgufValueTypes.ClrType(elementType), count);
        for (var i = 0; i < count; i++)
        {
            values.SetValue(Value(random, elementType, depth + 1).Value, i);
        }

        return GgufArray.Create(elementType, values);
    }
}

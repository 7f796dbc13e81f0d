using System.Globalization;
using System.Text.Json;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>
/// Differential test: the shared files (and files our writer made) read by @huggingface/gguf give the same metadata
/// keys, types and values, and the same tensor names, shapes, types and offsets, as our reader.
/// </summary>
public sealed class GgufReferenceReaderTests
{
    [SkippableFact]
    public void SharedFiles_ReadByHuggingFaceGguf_AgreeWithOurReader()
    {
        var files = Directory.GetFiles(SharedTestData.Folder("gguf"), "*.gguf").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(10, files.Length);
        Compare(files);
    }

    [SkippableFact]
    public void WrittenFiles_ReadByHuggingFaceGguf_AgreeWithOurReader()
    {
        // Our writer's output checked by someone else's reader: every value type, nested arrays, a tensor table,
        // and the v1/v2 and big-endian layouts.
        var dir = Directory.CreateTempSubdirectory("gryphgen-gguf-ref-");
        try
        {
            var random = new Random(4);
            var files = new List<string>();
            foreach (var (version, bigEndian) in new[] { (3, false), (2, false), (1, false), (3, true) })
            {
                var writer = RandomGguf.Writer(random, version, bigEndian, tensors: 6);
                var path = Path.Combine(dir.FullName, $"random-v{version}{(bigEndian ? "-be" : string.Empty)}.gguf");
                writer.Write(path);
                files.Add(path);
            }

            var model = Path.Combine(dir.FullName, "moe.gguf");
            GgufModelBuilder.Write(GgufModelShape.SmallMoe with { VocabularySize = 300, BlockCount = 2 }, model);
            files.Add(model);
            Compare(files);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void Compare(IReadOnlyList<string> files)
    {
        using var dump = ReferenceGgufReader.Dump(files);
        var results = dump.RootElement.EnumerateArray().ToArray();
        Assert.Equal(files.Count, results.Length);
        for (var i = 0; i < files.Count; i++)
        {
            var theirs = results[i];
            var ours = GgufHeaderReader.Read(files[i]);
            var where = Path.GetFileName(files[i]);

            Assert.Equal(theirs.GetProperty("version").GetInt32(), ours.Version);
            Assert.Equal(theirs.GetProperty("littleEndian").GetBoolean(), !ours.IsBigEndian);
            Assert.Equal(theirs.GetProperty("kvCount").GetString(), ours.Metadata.Count.ToString(CultureInfo.InvariantCulture));

            var metadata = theirs.GetProperty("metadata");
            Assert.Equal(metadata.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), ours.Metadata.Keys.Order(StringComparer.Ordinal));
            foreach (var entry in metadata.EnumerateObject())
            {
                var value = ours.Metadata[entry.Name];
                Assert.True((int)value.Type == entry.Value.GetProperty("type").GetInt32(), $"{where} {entry.Name}: type {value.Type}");
                if (value.AsArray() is { } array)
                {
                    Assert.True((int)array.ElementType == entry.Value.GetProperty("subType").GetInt32(), $"{where} {entry.Name}: element type");
                }

                AssertSameValue(entry.Value.GetProperty("value"), value.Type, value.Value, $"{where} {entry.Name}");
            }

            var tensors = theirs.GetProperty("tensors").EnumerateArray().ToArray();
            Assert.Equal(tensors.Length, ours.Tensors.Count);
            for (var t = 0; t < tensors.Length; t++)
            {
                var tensor = ours.Tensors[t];
                Assert.Equal(tensors[t].GetProperty("name").GetString(), tensor.Name);
                Assert.Equal(tensors[t].GetProperty("shape").EnumerateArray().Select(d => long.Parse(d.GetString()!, CultureInfo.InvariantCulture)), tensor.Dimensions);
                Assert.Equal(tensors[t].GetProperty("type").GetUInt32(), (uint)tensor.Type);
                Assert.Equal(tensors[t].GetProperty("offset").GetString(), tensor.Offset.ToString(CultureInfo.InvariantCulture));
            }

            // @huggingface/gguf pads the data offset even when there are no tensors; we report the unpadded end.
            Assert.Equal(theirs.GetProperty("tensorDataOffset").GetString(), GgufHeaderReaderAlign(ours).ToString(CultureInfo.InvariantCulture));
            Assert.Equal(theirs.GetProperty("parameterCount").GetString(), ours.ParameterCount.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static long GgufHeaderReaderAlign(GgufHeader header) => (header.DataOffset + header.Alignment - 1) / header.Alignment * header.Alignment;

    private static void AssertSameValue(JsonElement theirs, GgufValueType type, object ours, string where)
    {
        switch (type)
        {
            case GgufValueType.String:
                // TextDecoder, which @huggingface/gguf decodes with, drops a leading byte-order mark; the file holds
                // it (llama-spm's token 30143 is exactly EF BB BF), and so does our string.
                var expectedString = (string)ours;
                expectedString = expectedString.StartsWith('\uFEFF') ? expectedString[1..] : expectedString;
                Assert.True(theirs.GetString() == expectedString, $"{where}: string differs");
                break;
            case GgufValueType.Bool:
                Assert.True(theirs.GetBoolean() == (bool)ours, $"{where}: bool differs");
                break;
            case GgufValueType.UInt64 or GgufValueType.Int64:
                Assert.True(theirs.GetString() == Convert.ToString(ours, CultureInfo.InvariantCulture), $"{where}: {theirs} != {ours}");
                break;
            case GgufValueType.Float32 or GgufValueType.Float64:
                var d = type == GgufValueType.Float32 ? (double)(float)ours : (double)ours;
                var expected = theirs.ValueKind == JsonValueKind.String ? double.Parse(theirs.GetString()!, CultureInfo.InvariantCulture) : theirs.GetDouble();
                Assert.True(d.Equals(expected), $"{where}: {expected} != {d}");
                break;
            case GgufValueType.Array:
                var array = (GgufArray)ours;
                var values = array.ToArray();
                Assert.True(theirs.GetArrayLength() == values.Length, $"{where}: length {theirs.GetArrayLength()} != {values.Length}");
                var i = 0;
                foreach (var element in theirs.EnumerateArray())
                {
                    AssertSameValue(element, array.ElementType, values.GetValue(i)!, $"{where}[{i}]");
                    i++;
                }

                break;
            default:
                Assert.True(theirs.GetInt64() == Convert.ToInt64(ours, CultureInfo.InvariantCulture), $"{where}: {theirs} != {ours}");
                break;
        }
    }
}

using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

public sealed class GgufWriterRoundTripTests
{
    [Theory]
    [InlineData(3, false)]
    [InlineData(2, false)]
    [InlineData(1, false)]
    [InlineData(3, true)]
    public void Write_RandomMetadataAndTensors_ReadsBackIdentically(int version, bool bigEndian)
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed * 31 + version);
            var writer = RandomGguf.Writer(random, version, bigEndian, tensors: random.Next(0, 12));
            using var stream = new MemoryStream();
            writer.Write(stream);
            var header = GgufHeaderReader.Read(stream.ToArray(), $"seed {seed}");

            Assert.Equal(version, header.Version);
            Assert.Equal(bigEndian, header.IsBigEndian);
            Assert.Equal(writer.Metadata.Select(e => e.Key), header.Metadata.Keys);
            foreach (var (key, expected) in writer.Metadata)
            {
                var actual = header.Metadata[key];
                Assert.Equal(expected.Type, actual.Type);
                AssertSameValue(expected.Type, expected.Value, actual.Value, key);
            }

            Assert.False(header.Metadata.GetArray("test.long.strings")!.IsLoaded);
            Assert.Equal(writer.Alignment, header.Alignment);
            Assert.Equal(writer.Tensors.Count, header.Tensors.Count);
            for (var t = 0; t < writer.Tensors.Count; t++)
            {
                Assert.Equal(writer.Tensors[t].Name, header.Tensors[t].Name);
                Assert.Equal(writer.Tensors[t].Dimensions, header.Tensors[t].Dimensions);
                Assert.Equal(writer.Tensors[t].Type, header.Tensors[t].Type);
                Assert.Equal(writer.Tensors[t].Offset, header.Tensors[t].Offset);
            }

            if (writer.Tensors.Count > 0)
            {
                Assert.Equal(0, header.DataOffset % header.Alignment);
                Assert.Equal(stream.Length, header.DataOffset + writer.DataLength);
            }
        }
    }

    private static void AssertSameValue(GgufValueType type, object expected, object actual, string where)
    {
        if (type != GgufValueType.Array)
        {
            Assert.True(expected.Equals(actual), $"{where}: wrote {expected}, read {actual}");
            return;
        }

        var e = (GgufArray)expected;
        var a = (GgufArray)actual;
        Assert.Equal(e.ElementType, a.ElementType);
        Assert.Equal(e.Count, a.Count);
        var ev = e.ToArray();
        var av = a.ToArray(); // loads deferred arrays from the in-memory source
        for (var i = 0; i < ev.Length; i++)
        {
            AssertSameValue(e.ElementType, ev.GetValue(i)!, av.GetValue(i)!, $"{where}[{i}]");
        }
    }

    [Fact]
    public void Write_ToFile_LeavesTheDataSectionAsAHole()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gryphgen-8b-{Guid.NewGuid():N}.gguf");
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var length = GgufModelBuilder.Write(GgufModelShape.DenseLlama8B, path);
            var header = GgufHeaderReader.Read(path);
            var model = new GgufModel([header]);

            Assert.Equal(8_030_261_248, model.ParameterCount); // Meta-Llama-3-8B
            Assert.Equal("Q4_K_M", model.FileType);
            Assert.Equal("8B", model.SizeLabel);
            Assert.Equal(8, model.HeadCountKv);
            Assert.Equal(128256, model.VocabularySize);
            Assert.Equal(291, model.TensorCount);
            Assert.Equal(length, header.DataEnd);
            Assert.InRange(model.FileSize, 4_880_000_000L, 4_950_000_000L); // llama.cpp's Q4_K_M of it is 4.92 GB
            Assert.Contains(model.GetTensors(), t => t.Type == GgmlType.Q6_K);
            Assert.Contains(model.GetTensors(), t => t.Type == GgmlType.Q4_K);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "writing a sparse 8B model should take seconds");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Builder_MoeSlidingWindowAndPerLayerShapes_ReadBackAsWritten()
    {
        var dir = Directory.CreateTempSubdirectory("gryphgen-shapes-");
        GgufModel Build(GgufModelShape shape)
        {
            var path = Path.Combine(dir.FullName, Guid.NewGuid().ToString("N") + ".gguf");
            GgufModelBuilder.Write(shape, path);
            return new GgufModel([GgufHeaderReader.Read(path)]);
        }

        try
        {
            CheckShapes(Build);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void CheckShapes(Func<GgufModelShape, GgufModel> build)
    {
        var moe = build(GgufModelShape.SmallMoe);
        Assert.Equal(8, moe.ExpertCount);
        Assert.Equal(2, moe.ExpertUsedCount);
        Assert.Contains(moe.GetTensors(), t => t.Name == "blk.0.ffn_gate_exps.weight" && t.Dimensions.SequenceEqual([1024L, 2816, 8]));

        var window = build(GgufModelShape.SlidingWindow7B);
        Assert.Equal(4096, window.SlidingWindow);
        Assert.Equal(7_241_732_096, window.ParameterCount); // Mistral-7B-v0.1

        var perLayer = build(GgufModelShape.PerLayerKvHeads);
        Assert.Null(perLayer.HeadCountKv);
        Assert.Equal([8, 4, 2, 1], perLayer.HeadCountKvPerLayer);
        Assert.Contains(perLayer.GetTensors(), t => t.Name == "blk.3.attn_k.weight" && t.Dimensions.SequenceEqual([512L, 64]));
    }
}

using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

public sealed class GgmlTypeTests
{
    [Theory]
    [InlineData(GgmlType.F32, 1, 4)]
    [InlineData(GgmlType.F16, 1, 2)]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.IQ4_XS, 256, 136)]
    [InlineData(GgmlType.BF16, 1, 2)]
    [InlineData(GgmlType.TQ1_0, 256, 54)]
    [InlineData(GgmlType.TQ2_0, 256, 66)]
    [InlineData(GgmlType.MXFP4, 32, 17)]
    public void Get_KnownType_HasGgmlBlockSizeAndBytes(GgmlType type, int blockSize, int bytesPerBlock)
    {
        var info = GgmlTypes.Get(type);
        Assert.Equal(blockSize, info.BlockSize);
        Assert.Equal(bytesPerBlock, info.BytesPerBlock);
        Assert.Equal(type.ToString(), info.Name);
    }

    [Theory]
    [InlineData(4u, "Q4_2 (removed)")]
    [InlineData(33u, "Q4_0_8_8 (removed)")]
    [InlineData(99u, "unknown(99)")]
    [InlineData(uint.MaxValue, "unknown(4294967295)")]
    public void Get_UnknownOrRemovedId_IsReportedNotThrown(uint id, string name)
    {
        var info = GgmlTypes.Get(id);
        Assert.False(info.IsKnown);
        Assert.Equal(name, info.Name);
        Assert.Null(GgmlTypes.ByteSize((GgmlType)id, 256));
    }

    [Fact]
    public void Read_TensorOfUnknownType_IsKeptWithUnknownSize()
    {
        var writer = new GgufWriter().SetString("general.architecture", "llama").AddTensor("a", GgmlType.F32, 8);
        using var stream = new MemoryStream();
        writer.Write(stream);
        var bytes = stream.ToArray();
        // Patch the tensor's type id (after its name "a", n_dims and one 8-byte dimension) to 77.
        var headerLength = writer.GetHeaderBytes().Length;
        var tableEnd = Array.LastIndexOf(bytes[..headerLength], (byte)'a') + 1 + 4 + 8;
        BitConverter.GetBytes(77u).CopyTo(bytes, tableEnd);
        var header = GgufHeaderReader.Read(bytes);
        Assert.Equal("unknown(77)", header.Tensors[0].TypeName);
        Assert.Null(header.Tensors[0].ByteSize);
        Assert.True(header.HasUnknownTensorTypes);
    }

    [Theory]
    [InlineData(15, "Q4_K_M")]
    [InlineData(1, "F16")]
    [InlineData(32, "BF16")]
    [InlineData(36, "TQ1_0")]
    [InlineData(38, "MXFP4_MOE")]
    [InlineData(1234, "unknown(1234)")]
    public void FileType_Name_MatchesLlamaFtype(int id, string name) => Assert.Equal(name, GgufFileType.GetName(id));

    [Theory]
    [InlineData(7_241_732_096L, "7.2B")]
    [InlineData(8_030_261_248L, "8B")]
    [InlineData(70_553_706_496L, "71B")]
    [InlineData(134_515_008L, "135M")]
    public void FormatParameters_RoundsLikeModelCards(long count, string label) => Assert.Equal(label, GgufModel.FormatParameters(count));
}

using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>Every file in ../shared/testdata/gguf read with exactly the facts its README states.</summary>
public sealed class SharedGgufFilesTests
{
    // file, bytes, general.architecture, tokenizer.ggml.model, tokens, metadata pairs, tensors, has general.file_type
    public static TheoryData<string, long, string, string, int, int, int, bool> Files => new()
    {
        { "ggml-vocab-bert-bge.gguf", 627549, "bert", "bert", 30522, 20, 0, true },
        { "ggml-vocab-deepseek-coder.gguf", 1156067, "llama", "gpt2", 32256, 25, 0, true },
        { "ggml-vocab-gpt-2.gguf", 1766807, "gpt2", "gpt2", 50257, 16, 0, true },
        { "ggml-vocab-gpt-neox.gguf", 1771431, "gptneox", "gpt2", 50432, 17, 0, false },
        { "ggml-vocab-llama-spm.gguf", 723869, "llama", "llama", 32000, 22, 0, true },
        { "ggml-vocab-mpt.gguf", 1771393, "mpt", "gpt2", 50432, 17, 0, false },
        { "ggml-vocab-phi-3.gguf", 726019, "phi3", "llama", 32064, 26, 0, true },
        { "ggml-vocab-refact.gguf", 1720710, "refact", "gpt2", 49216, 18, 0, true },
        { "ggml-vocab-starcoder.gguf", 1719346, "starcoder2", "gpt2", 49152, 19, 0, true },
        { "llama-2-tiny-random.gguf", 1750560, "llama", "llama", 32000, 18, 12, true },
    };

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Read_SharedFile_MatchesReadme(string file, long bytes, string architecture, string tokenizer, int tokens, int pairs, int tensors, bool hasFileType)
    {
        var path = Path.Combine(SharedTestData.Folder("gguf"), file);
        var header = GgufHeaderReader.Read(path);

        Assert.Equal(3, header.Version);
        Assert.False(header.IsBigEndian);
        Assert.Equal(bytes, header.FileLength);
        Assert.Equal(architecture, header.Architecture);
        Assert.Equal(tokenizer, header.Metadata.GetString("tokenizer.ggml.model"));
        var vocabulary = header.Metadata.GetArray("tokenizer.ggml.tokens");
        Assert.NotNull(vocabulary);
        Assert.Equal(tokens, vocabulary.Count);
        Assert.False(vocabulary.IsLoaded); // stepped over, not read
        Assert.Equal(pairs, header.Metadata.Count);
        Assert.Equal(tensors, header.Tensors.Count);
        Assert.Equal(hasFileType, header.Metadata.ContainsKey("general.file_type"));

        var model = new GgufModel([header]);
        Assert.Equal(tokens, model.VocabularySize);
        Assert.Equal(tensors == 0 ? GgufModelKind.VocabOnly : GgufModelKind.Model, model.Kind);
        if (tensors == 0)
        {
            // Vocab-only files end right after the last metadata pair, with no alignment padding.
            Assert.Equal(bytes, header.DataOffset);
        }
    }

    [SkippableFact]
    public void Read_Phi3_HasChatTemplate()
    {
        var header = GgufHeaderReader.Read(Path.Combine(SharedTestData.Folder("gguf"), "ggml-vocab-phi-3.gguf"));
        Assert.True(new GgufModel([header]).HasChatTemplate);
        Assert.False(new GgufModel([GgufHeaderReader.Read(Path.Combine(SharedTestData.Folder("gguf"), "ggml-vocab-gpt-2.gguf"))]).HasChatTemplate);
    }

    [SkippableFact]
    public void Read_LlamaTiny_HasEveryReadmeFact()
    {
        var path = Path.Combine(SharedTestData.Folder("gguf"), "llama-2-tiny-random.gguf");
        var model = new GgufModel([GgufHeaderReader.Read(path)]);
        var header = model.GetHeaders()[0];

        Assert.Equal("llama", model.Architecture);
        Assert.Equal(8, model.EmbeddingLength);
        Assert.Equal(1, model.BlockCount);
        Assert.Equal(32, model.FeedForwardLength);
        Assert.Equal(2, model.HeadCount);
        Assert.Equal(2, model.HeadCountKv);
        Assert.Null(model.HeadCountKvPerLayer);
        Assert.Equal(4096, model.ContextLength);
        Assert.Equal(32000, model.VocabularySize);
        Assert.Equal("F16", model.FileType);
        Assert.Equal(1, model.FileTypeId);
        Assert.Equal(9, model.GetTensors().Count(t => t.Type == GgmlType.F16));
        Assert.Equal(3, model.GetTensors().Count(t => t.Type == GgmlType.F32));
        Assert.Equal(724416, header.DataOffset);
        Assert.Equal(1750560, header.DataEnd); // the last tensor ends exactly at the end of the file
        Assert.Equal(header.FileLength - header.DataOffset, model.TensorDataSize);
        Assert.Equal(model.GetTensors().Sum(t => t.ElementCount), model.ParameterCount);
        Assert.Equal("LLaMA v2", model.Name);
        Assert.Equal(GgufModelKind.Model, model.Kind);
    }

    [SkippableFact]
    public void Vocabulary_ToArray_ReadsTheDeferredTokens()
    {
        var header = GgufHeaderReader.Read(Path.Combine(SharedTestData.Folder("gguf"), "llama-2-tiny-random.gguf"));
        var tokens = header.Metadata.GetArray("tokenizer.ggml.tokens")!.ToArray<string>();
        Assert.Equal(32000, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>"], tokens[..3]);
        var scores = header.Metadata.GetArray("tokenizer.ggml.scores")!.ToArray<float>();
        Assert.Equal(32000, scores.Length);
    }
}

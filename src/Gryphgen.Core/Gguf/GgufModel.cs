using System.Globalization;

namespace Gryphgen.Core.Gguf;

/// <summary>What a GGUF file is for.</summary>
public enum GgufModelKind
{
    Model,
    VisionProjector,
    Adapter,
    VocabOnly,
}

/// <summary>Which tool's store a model was found in.</summary>
public enum GgufModelSource
{
    File,
    Ollama,
    LMStudio,
    HuggingFace,
    LlamaCpp,
}

/// <summary>
/// One model as Find-GgufModel reports it: a GGUF file (or every shard of a split model) with the facts read from
/// its header. Architecture-specific values come from <c>&lt;general.architecture&gt;.*</c> keys and are null when
/// the file does not have them. The full metadata and tensor table are on demand: <see cref="GetMetadata"/>,
/// <see cref="GetTensors"/>.
/// </summary>
public sealed class GgufModel
{
    private readonly IReadOnlyList<string> _aliases = TextList.Empty<string>();

    private readonly IReadOnlyList<GgufHeader> _headers;

    /// <summary>Builds a model from the header of each shard, in shard order (one header for an unsplit file).</summary>
    public GgufModel(IReadOnlyList<GgufHeader> headers, GgufModelSource source = GgufModelSource.File, string? name = null, GgufModelKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.Count == 0)
        {
            throw new ArgumentException("A model needs at least one header.", nameof(headers));
        }

        _headers = headers;
        var first = headers[0];
        var m = first.Metadata;
        Path = first.Path;
        Source = source;
        Architecture = first.Architecture;
        Shards = TextList.Of(headers.Select(h => h.Path).ToArray());
        GgufVersion = first.Version;
        FileSize = SumOverShards(headers, h => h.FileLength, "file sizes");
        TensorDataSize = SumOverShards(headers, h => h.TensorDataSize, "tensor data sizes");
        ParameterCount = SumOverShards(headers, h => h.ParameterCount, "parameter counts");
        TensorCount = (int)Math.Min(SumOverShards(headers, h => h.Tensors.Count, "tensor counts"), int.MaxValue);
        LastWriteTime = headers.Select(h => File.Exists(h.Path) ? File.GetLastWriteTime(h.Path) : DateTime.MinValue).Max();

        var fileType = m.GetInt64("general.file_type");
        FileTypeId = fileType is { } id && id is >= 0 and <= int.MaxValue ? (int)id : null;
        FileType = fileType is { } ft ? GgufFileType.GetName(ft) : null;
        Name = name ?? m.GetString("general.name") ?? InferName(Path);
        SizeLabel = m.GetString("general.size_label") ?? (ParameterCount > 0 ? FormatParameters(ParameterCount) : null);

        ContextLength = ArchInt(first, "context_length");
        BlockCount = ArchInt(first, "block_count");
        EmbeddingLength = ArchInt(first, "embedding_length");
        (FeedForwardLength, FeedForwardLengthPerLayer) = ScalarOrPerLayer(first, "feed_forward_length");
        (HeadCount, HeadCountPerLayer) = ScalarOrPerLayer(first, "attention.head_count");
        (HeadCountKv, HeadCountKvPerLayer) = ScalarOrPerLayer(first, "attention.head_count_kv");
        KeyLength = ArchInt(first, "attention.key_length");
        ValueLength = ArchInt(first, "attention.value_length");
        ExpertCount = ArchInt(first, "expert_count");
        ExpertUsedCount = ArchInt(first, "expert_used_count");
        SlidingWindow = ArchInt(first, "attention.sliding_window");

        var tokens = m.GetArray("tokenizer.ggml.tokens");
        VocabularySize = tokens is not null ? (int)Math.Min(tokens.Count, int.MaxValue) : ArchInt(first, "vocab_size");
        TokenizerModel = m.GetString("tokenizer.ggml.model");
        HasChatTemplate = m.ContainsKey("tokenizer.chat_template");
        Kind = kind ?? InferKind(first);
    }

    /// <summary>
    /// The most per-layer values (head counts, feed-forward widths) read from one key; a longer array is an error
    /// for its model, so a lying file cannot make a scan load millions of values.
    /// </summary>
    public const int MaxPerLayerValues = 65536;

    public string Path { get; }

    /// <summary>Ollama's model:tag, else general.name, else the file name without shard suffix and extension.</summary>
    public string Name { get; }

    /// <summary>Other Ollama names (tags) of the same blob.</summary>
    public IReadOnlyList<string> Aliases { get => _aliases; init => _aliases = TextList.Of(value); }

    /// <summary>Hugging Face repo id (org/name), or LM Studio publisher/repo, when the store says.</summary>
    public string? Repository { get; init; }

    /// <summary>Hugging Face snapshot folder holding the file.</summary>
    public string? SnapshotPath { get; init; }

    /// <summary>
    /// The vision projector (mmproj file) that lies beside this model and projects into its embedding width, when
    /// Find-GgufModel found one (<see cref="ProjectorPairing"/>); Select-ModelForGpu then counts it.
    /// </summary>
    public string? ProjectorPath { get; set; }

    public string? Architecture { get; }

    /// <summary>general.size_label, else the parameter count rounded as 7.2B / 135M.</summary>
    public string? SizeLabel { get; }

    /// <summary>Sum of every tensor's element count, over all shards.</summary>
    public long ParameterCount { get; }

    /// <summary>general.file_type as a name, e.g. Q4_K_M; null when the file does not say.</summary>
    public string? FileType { get; }

    public int? FileTypeId { get; }

    public int? ContextLength { get; }

    public int? BlockCount { get; }

    public int? EmbeddingLength { get; }

    /// <summary>Feed-forward width; null when the file gives it per layer (see FeedForwardLengthPerLayer).</summary>
    public int? FeedForwardLength { get; }

    public IReadOnlyList<int>? FeedForwardLengthPerLayer { get; }

    public int? HeadCount { get; }

    public IReadOnlyList<int>? HeadCountPerLayer { get; }

    /// <summary>KV heads when every layer has the same number; null when the file gives an array (HeadCountKvPerLayer).</summary>
    public int? HeadCountKv { get; }

    public IReadOnlyList<int>? HeadCountKvPerLayer { get; }

    public int? KeyLength { get; }

    public int? ValueLength { get; }

    public int? ExpertCount { get; }

    public int? ExpertUsedCount { get; }

    public int? SlidingWindow { get; }

    /// <summary>Tokens in tokenizer.ggml.tokens (counted without reading them), else &lt;arch&gt;.vocab_size.</summary>
    public int? VocabularySize { get; }

    public string? TokenizerModel { get; }

    public bool HasChatTemplate { get; }

    public GgufModelKind Kind { get; }

    public GgufModelSource Source { get; }

    /// <summary>Bytes on disk over every shard (apparent size: a sparse file counts in full).</summary>
    public long FileSize { get; }

    /// <summary>Bytes of tensor data computed from the tensor table (type block sizes), over every shard.</summary>
    public long TensorDataSize { get; }

    public int TensorCount { get; }

    /// <summary>Path of every shard in order; one entry for an unsplit file.</summary>
    public IReadOnlyList<string> Shards { get; }

    public int GgufVersion { get; }

    public DateTime LastWriteTime { get; }

    /// <summary>The first shard's metadata, in file order (arrays such as the vocabulary stay unread until asked for).</summary>
    public GgufMetadata GetMetadata() => _headers[0].Metadata;

    /// <summary>Every tensor of every shard.</summary>
    public IReadOnlyList<GgufTensorInfo> GetTensors() => _headers.Count == 1 ? _headers[0].Tensors : _headers.SelectMany(h => h.Tensors).ToArray();

    /// <summary>The header of each shard.</summary>
    public IReadOnlyList<GgufHeader> GetHeaders() => _headers;

    /// <summary>7241732096 -> "7.2B", 134515008 -> "135M".</summary>
    public static string FormatParameters(long count)
    {
        var c = CultureInfo.InvariantCulture;
        return count switch
        {
            >= 1_000_000_000_000 => (count / 1e12).ToString(count >= 10_000_000_000_000 ? "0" : "0.#", c) + "T",
            >= 1_000_000_000 => (count / 1e9).ToString(count >= 10_000_000_000 ? "0" : "0.#", c) + "B",
            >= 1_000_000 => (count / 1e6).ToString("0", c) + "M",
            >= 1_000 => (count / 1e3).ToString("0", c) + "K",
            _ => count.ToString(c),
        };
    }

    /// <summary>"Meta-Llama-3-8B-Q4_K_M-00001-of-00002.gguf" -> "Meta-Llama-3-8B-Q4_K_M".</summary>
    public static string InferName(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        if (name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^5];
        }

        var split = GgufSplitName.Parse(name + ".gguf");
        return split?.Prefix ?? name;
    }

    private static GgufModelKind InferKind(GgufHeader header)
    {
        var type = header.Metadata.GetString("general.type");
        if (string.Equals(type, "adapter", StringComparison.OrdinalIgnoreCase) || header.Metadata.ContainsKey("adapter.type"))
        {
            return GgufModelKind.Adapter;
        }

        if (string.Equals(type, "mmproj", StringComparison.OrdinalIgnoreCase) || header.Architecture == "clip")
        {
            return GgufModelKind.VisionProjector;
        }

        return header.Tensors.Count == 0 && header.Metadata.ContainsKey("tokenizer.ggml.model") ? GgufModelKind.VocabOnly : GgufModelKind.Model;
    }

    /// <summary>
    /// Each shard's count fits in 64 bits (the reader checks), but lying shards can overflow together: that is bad
    /// data in this model, reported like any other, not an OverflowException that ends a scan.
    /// </summary>
    private static long SumOverShards(IReadOnlyList<GgufHeader> headers, Func<GgufHeader, long> count, string what)
    {
        Int128 sum = 0;
        foreach (var header in headers)
        {
            sum += count(header);
        }

        return sum <= long.MaxValue && sum >= long.MinValue ? (long)sum
            : throw new GgufFormatException(GgufFormatError.InvalidFormat, headers[0].Path, 0, $"the {what} of its {headers.Count} shards add up to {sum}, more than 64 bits hold");
    }

    private static int? ArchInt(GgufHeader header, string suffix) => header.GetArchitectureValue(suffix)?.AsInt32();

    private static (int? Scalar, IReadOnlyList<int>? PerLayer) ScalarOrPerLayer(GgufHeader header, string suffix)
    {
        var value = header.GetArchitectureValue(suffix);
        if (value?.AsArray() is { } array)
        {
            if (array.Count > MaxPerLayerValues)
            {
                throw new GgufFormatException(GgufFormatError.InvalidFormat, header.Path, array.Offset,
                    $"{header.Architecture}.{suffix} has {array.Count} per-layer values, more than the {MaxPerLayerValues} read (llama.cpp loads at most 512 layers)");
            }

            try
            {
                var values = array.ToInt64Array().Select(v => (int)Math.Clamp(v, int.MinValue, int.MaxValue)).ToArray();
                return (values.Length > 0 && values.All(v => v == values[0]) ? values[0] : null, TextList.Of(values));
            }
            catch (InvalidCastException)
            {
                return (null, null);
            }
            catch (GgufFormatException)
            {
                return (null, null);
            }
        }

        return (value?.AsInt32(), null);
    }
}

using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>
/// What llama.cpp's mtmd allocates for a vision projector (an mmproj GGUF, architecture clip) beside its model: the
/// projector's weights and the compute buffer of its encoder, which mtmd reserves by encoding one image of the
/// encoder's own size at start-up (its warm-up). llama-server offloads both to the first GPU by default.
/// The encoder is sized as a plain ViT: P = (image_size / patch_size)² patches; without flash attention the scores
/// of all heads (P × P × heads floats) beside six embedding-wide activations, with it the feed-forward stage
/// (feed_forward_length + three embeddings) per patch. Exact for Gemma 3's projector against mtmd's own figures;
/// projectors that merge or tile patches (Qwen-VL, LLaVA-UHD, Pixtral) are sized at their warm-up size as if plain,
/// which <see cref="Caveat"/> says.
/// </summary>
public sealed record ProjectorEstimate
{
    /// <summary>The projector file.</summary>
    public required GgufModel Projector { get; init; }

    /// <summary>Tensor data, bytes (mtmd's "model size").</summary>
    public required long WeightsBytes { get; init; }

    /// <summary>The encoder's compute buffer, bytes (mtmd's "compute buffer size").</summary>
    public required long ComputeBytes { get; init; }

    /// <summary>Why the compute figure is approximate for this projector type; null for the types checked against mtmd.</summary>
    public string? Caveat { get; init; }

    /// <summary>Both, bytes.</summary>
    public long TotalBytes => WeightsBytes + ComputeBytes;

    /// <summary>Sizes a projector for an encoder run with or without flash attention (llama-server's -fa applies to it too).</summary>
    public static ProjectorEstimate From(GgufModel projector, bool flashAttention)
    {
        ArgumentNullException.ThrowIfNull(projector);
        var m = projector.GetHeaders()[0].Metadata;
        long Key(string name) => m.GetInt64("clip.vision." + name) is { } v && v is > 0 and < 1 << 20
            ? v
            : throw new GryphgenException("ProjectorShapeMissing", GryphgenErrorKind.InvalidData,
                $"The vision projector '{projector.Name}' has no usable clip.vision.{name}, so its memory cannot be estimated.", projector.Path);
        var side = Key("image_size") / Key("patch_size");
        var patches = side * side;
        long embd = Key("embedding_length"), ff = Key("feed_forward_length"), heads = Key("attention.head_count");
        var feedForward = 4 * patches * (ff + (3 * embd));
        var attention = flashAttention ? 0 : 4 * patches * ((heads * patches) + (6 * embd));
        var type = m.GetString("clip.projector_type") ?? "";
        return new ProjectorEstimate
        {
            Projector = projector,
            WeightsBytes = projector.GetTensors().Sum(t => t.ByteSize ?? 0),
            ComputeBytes = Math.Max(feedForward, attention),
            Caveat = type is "gemma3" ? null : $"the '{type}' projector's encoder is sized as a plain ViT at its warm-up image size",
        };
    }
}

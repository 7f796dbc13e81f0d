namespace Gryphgen.Core.Gguf;

/// <summary>
/// The shape of a vision projector (an <c>mmproj</c> GGUF, architecture <c>clip</c>): a ViT encoder and the
/// projection into the text model's embedding, as llama.cpp's mtmd reads it. <see cref="GgufModelBuilder"/> writes
/// it as a sparse file beside its model.
/// </summary>
public sealed record GgufProjectorShape
{
    /// <summary>general.name.</summary>
    public string Name { get; init; } = "Gryphgen test projector";

    /// <summary>clip.projector_type (gemma3, ...).</summary>
    public string ProjectorType { get; init; } = "gemma3";

    /// <summary>clip.vision.image_size: the side of the (square) image the encoder takes, pixels.</summary>
    public int ImageSize { get; init; } = 896;

    /// <summary>clip.vision.patch_size, pixels.</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>clip.vision.embedding_length.</summary>
    public int EmbeddingLength { get; init; } = 1152;

    /// <summary>clip.vision.feed_forward_length.</summary>
    public int FeedForwardLength { get; init; } = 4304;

    /// <summary>clip.vision.block_count.</summary>
    public int BlockCount { get; init; } = 27;

    /// <summary>clip.vision.attention.head_count.</summary>
    public int HeadCount { get; init; } = 16;

    /// <summary>clip.vision.projection_dim: the text model's embedding_length.</summary>
    public int ProjectionDimension { get; init; } = 3840;

    /// <summary>Tensor type of the weight matrices (norms and biases are F32).</summary>
    public GgmlType WeightType { get; init; } = GgmlType.F16;

    /// <summary>Gemma 3's SigLIP encoder (so400m, 896 px, patch 14) projecting into Gemma-3-12B's 3840-wide embedding.</summary>
    public static GgufProjectorShape Gemma3Vision12B { get; } = new() { Name = "Gemma-3-12B vision (shape only)" };
}

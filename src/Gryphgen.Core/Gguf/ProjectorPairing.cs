namespace Gryphgen.Core.Gguf;

/// <summary>
/// Finds the vision projector that belongs to a model: an mmproj file (architecture clip, "mmproj" in its name, as
/// llama.cpp's converter and the model hubs name them) in the model's own folder whose projection width is the
/// model's embedding width. Reads only the headers of such files.
/// </summary>
public static class ProjectorPairing
{
    /// <summary>The projector lying beside <paramref name="model"/>, or null; with several candidates, the first by name.</summary>
    public static GgufModel? FindBeside(GgufModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Kind != GgufModelKind.Model || model.EmbeddingLength is not { } width || Path.GetDirectoryName(model.Path) is not { Length: > 0 } folder)
        {
            return null;
        }

        string[] candidates;
        try
        {
            candidates = Directory.GetFiles(folder, "*mmproj*.gguf").Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        foreach (var path in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var header = GgufHeaderReader.Read(path);
                if (header.Metadata.GetString("general.architecture") == "clip"
                    && header.Metadata.GetInt64("clip.vision.projection_dim") == width)
                {
                    return new GgufModel([header]);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GgufFormatException)
            {
                // A projector that cannot be read is not paired; Find-GgufModel reports the file on its own.
            }
        }

        return null;
    }
}

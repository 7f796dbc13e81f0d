using System.Text.Json;

namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>
/// What an Ollama store's manifests say about its blobs. A store is a folder with blobs/ and manifests/;
/// manifests/&lt;host&gt;/&lt;namespace&gt;/&lt;model&gt;/&lt;tag&gt; is JSON whose layers name blobs by digest
/// (sha256:hex, stored as blobs/sha256-hex) and say what each is: the model, a vision projector or an adapter.
/// </summary>
internal sealed class OllamaManifestIndex
{
    private const string DefaultHost = "registry.ollama.ai";
    private const string DefaultNamespace = "library";

    /// <summary>A manifest lists a handful of layers in well under a kilobyte; anything past 1 MiB is not one.</summary>
    private const int MaxManifestBytes = 1024 * 1024;

    private readonly Dictionary<string, List<(string Name, GgufModelKind Kind)>> _byBlob = new(StringComparer.Ordinal);

    private OllamaManifestIndex()
    {
    }

    /// <summary>True when <paramref name="blobPath"/> is blobs/sha256-... inside a folder that also has manifests/.</summary>
    public static string? StoreOf(string blobPath)
    {
        var dir = Path.GetDirectoryName(blobPath);
        if (dir is null || !string.Equals(Path.GetFileName(dir), "blobs", StringComparison.Ordinal)
            || !Path.GetFileName(blobPath).StartsWith("sha256-", StringComparison.Ordinal))
        {
            return null;
        }

        var store = Path.GetDirectoryName(dir);
        return store is not null && Directory.Exists(Path.Combine(store, "manifests")) ? store : null;
    }

    public static OllamaManifestIndex Load(string store)
    {
        var index = new OllamaManifestIndex();
        var manifests = Path.Combine(store, "manifests");
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(manifests, "*", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, IgnoreInaccessible = true }).ToArray();
        }
        catch (IOException)
        {
            return index;
        }
        catch (UnauthorizedAccessException)
        {
            return index;
        }

        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var parts = Path.GetRelativePath(manifests, file).Split(Path.DirectorySeparatorChar);
            if (parts.Length != 4)
            {
                continue;
            }

            var name = DisplayName(parts[0], parts[1], parts[2], parts[3]);
            try
            {
                using var json = JsonDocument.Parse(RegularFile.ReadAllBytes(file, MaxManifestBytes));
                if (!json.RootElement.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var layer in layers.EnumerateArray())
                {
                    var mediaType = layer.TryGetProperty("mediaType", out var mt) ? mt.GetString() : null;
                    var digest = layer.TryGetProperty("digest", out var d) ? d.GetString() : null;
                    GgufModelKind? kind = mediaType switch
                    {
                        "application/vnd.ollama.image.model" => GgufModelKind.Model,
                        "application/vnd.ollama.image.projector" => GgufModelKind.VisionProjector,
                        "application/vnd.ollama.image.adapter" => GgufModelKind.Adapter,
                        _ => null,
                    };
                    if (kind is null || digest is null)
                    {
                        continue;
                    }

                    var blob = digest.Replace(':', '-');
                    if (!index._byBlob.TryGetValue(blob, out var names))
                    {
                        index._byBlob[blob] = names = [];
                    }

                    names.Add((name, kind.Value));
                }
            }
            catch (JsonException)
            {
                // A manifest being written or hand-edited: its blobs are still found, only without a name.
            }
            catch (InvalidOperationException)
            {
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            catch (GgufFormatException)
            {
                // Not a regular file (a FIFO planted among the manifests): never opened, so it cannot block the scan.
            }
        }

        return index;
    }

    /// <summary>The names (model:tag) that use this blob, and what they use it as.</summary>
    public IReadOnlyList<(string Name, GgufModelKind Kind)> Lookup(string blobFileName)
        => _byBlob.TryGetValue(blobFileName, out var names) ? names : [];

    /// <summary>What `ollama list` shows: llama3:8b, user/model:tag, hf.co/org/repo:tag.</summary>
    public static string DisplayName(string host, string ns, string model, string tag)
    {
        if (host == DefaultHost)
        {
            return ns == DefaultNamespace ? $"{model}:{tag}" : $"{ns}/{model}:{tag}";
        }

        return $"{host}/{ns}/{model}:{tag}";
    }
}

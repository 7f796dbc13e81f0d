using System.IO.Enumeration;
using System.Text.RegularExpressions;

namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>
/// Finds GGUF models under folders: walks them (following symlinks, each real folder once, so loops end), keeps
/// files that start with the GGUF magic whatever their name, lists a file reached through several paths once,
/// joins split models, names Ollama blobs from their manifests and Hugging Face files from their cache folders,
/// and reads each header. Problems become <see cref="GgufScanError"/>s in the results; the scan goes on.
/// </summary>
public sealed partial class GgufModelFinder
{
    private const int MaxDepth = 64;
    private readonly GgufFinderOptions _options;
    private readonly Dictionary<string, OllamaManifestIndex> _ollamaStores = new(StringComparer.Ordinal);
    private int _directories;
    private int _files;
    private int _models;

    public GgufModelFinder(GgufFinderOptions? options = null)
    {
        _options = options ?? new GgufFinderOptions();
    }

    [GeneratedRegex(@"[/\\]models--(?<repo>[^/\\]+)[/\\]snapshots[/\\](?<rev>[^/\\]+)[/\\]", RegexOptions.CultureInvariant)]
    private static partial Regex HuggingFaceSnapshot();

    [GeneratedRegex(@"[/\\]models--(?<repo>[^/\\]+)[/\\]blobs[/\\]", RegexOptions.CultureInvariant)]
    private static partial Regex HuggingFaceBlob();

    /// <summary>Searches files or folders given by the user; their source is told from the path.</summary>
    public IEnumerable<GgufScanResult> Find(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Find(paths.Select(p => new GgufSearchRoot(p, GgufModelSource.File)), cancellationToken);
    }

    /// <summary>
    /// Streams: each folder's models are read and returned as soon as that folder has been listed, before the walk
    /// goes on, so the first model comes while a large tree is still being scanned. Files named one after another
    /// (shards passed by Get-ChildItem) are read together, so a split model given shard by shard is still one model.
    /// </summary>
    public IEnumerable<GgufScanResult> Find(IEnumerable<GgufSearchRoot> roots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var visitedDirectories = new HashSet<string>(StringComparer.Ordinal);
        var returned = new HashSet<string>(StringComparer.Ordinal); // real paths already read, under whatever path
        var namedFiles = new List<Candidate>();
        // A Hugging Face blob is shown by the snapshot path that links to it; a blob waits to the end of the scan
        // and is read only where no snapshot led to it.
        var blobs = new List<Candidate>();
        foreach (var root in roots)
        {
            var rootPath = Path.GetFullPath(root.Path);
            if (File.Exists(rootPath))
            {
                if (Examine(rootPath, RealPath.Resolve(rootPath), root, namedFiles, explicitFile: true) is { } error)
                {
                    yield return GgufScanResult.Of(error);
                }

                continue;
            }

            foreach (var result in ReadNew(namedFiles, returned, blobs, cancellationToken))
            {
                yield return result;
            }

            foreach (var step in Walk(root with { Path = rootPath }, visitedDirectories, cancellationToken))
            {
                if (step.Error is { } error)
                {
                    yield return GgufScanResult.Of(error);
                    continue;
                }

                foreach (var result in ReadNew(step.Found!, returned, blobs, cancellationToken))
                {
                    yield return result;
                }
            }
        }

        foreach (var result in ReadNew(namedFiles, returned, blobs, cancellationToken))
        {
            yield return result;
        }

        blobs.RemoveAll(b => returned.Contains(b.RealPath));
        foreach (var result in Read(Deduplicate(blobs), cancellationToken))
        {
            yield return result;
        }
    }

    /// <summary>Reads the candidates whose real file has not been read yet (blobs are set aside), then empties the list.</summary>
    private IEnumerable<GgufScanResult> ReadNew(List<Candidate> found, HashSet<string> returned, List<Candidate> blobs, CancellationToken cancellationToken)
    {
        if (found.Count == 0)
        {
            return [];
        }

        var fresh = new List<Candidate>();
        foreach (var candidate in found)
        {
            if (HuggingFaceBlob().IsMatch(candidate.Path))
            {
                blobs.Add(candidate);
            }
            else if (!returned.Contains(candidate.RealPath))
            {
                fresh.Add(candidate);
            }
        }

        found.Clear();
        var batch = Deduplicate(fresh);
        returned.UnionWith(batch.Select(c => c.RealPath));
        return Read(batch, cancellationToken);
    }

    /// <summary>One step of a walk: a folder's GGUF candidates (possibly none), or an error.</summary>
    private readonly record struct WalkStep(List<Candidate>? Found, GgufScanError? Error);

    /// <summary>A file that starts with the GGUF magic, with where it was found.</summary>
    private sealed record Candidate(string Path, string RealPath, long Length, GgufSearchRoot Root);

    private IEnumerable<WalkStep> Walk(GgufSearchRoot root, HashSet<string> visited, CancellationToken cancellationToken)
    {
        var rootPath = root.Path;
        var rootReal = RealPath.Resolve(rootPath);
        if (!Directory.Exists(rootPath) || rootReal is null)
        {
            yield return new WalkStep(null, new GgufScanError(rootPath, "PathNotFound", GgufErrorCategory.ObjectNotFound, new DirectoryNotFoundException($"'{rootPath}' does not exist.")));
            yield break;
        }

        var maxDepth = Math.Min(_options.Depth ?? MaxDepth, MaxDepth);
        var stack = new Stack<(string Path, string Real, int Depth)>();
        if (visited.Add(rootReal))
        {
            stack.Push((rootPath, rootReal, 0));
        }

        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (dir, dirReal, depth) = stack.Pop();
            _directories++;
            Report("Scanning folders", dir);

            List<Entry> entries;
            GgufScanError? listError = null;
            try
            {
                entries = List(dir);
            }
            catch (UnauthorizedAccessException ex)
            {
                entries = [];
                listError = new GgufScanError(dir, "DirectoryAccessDenied", GgufErrorCategory.PermissionDenied, ex);
            }
            catch (IOException ex)
            {
                entries = [];
                listError = new GgufScanError(dir, "DirectoryReadError", GgufErrorCategory.ReadError, ex);
            }

            if (listError is not null)
            {
                yield return new WalkStep(null, listError);
            }

            var candidates = new List<Candidate>();
            var subdirectories = new List<(string, string, int)>();
            foreach (var e in entries)
            {
                var path = Path.Combine(dir, e.Name);
                var real = e.IsLink ? RealPath.Resolve(path) : Path.Combine(dirReal, e.Name);
                if (real is null)
                {
                    // A dangling link or a loop of links: nothing to read. Report it only when it claims to be a model.
                    if (e.Name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                    {
                        yield return new WalkStep(null, new GgufScanError(path, "GgufBrokenLink", GgufErrorCategory.ObjectNotFound, new FileNotFoundException($"'{path}' is a symbolic link that leads nowhere (dangling, or a loop).", path)));
                    }

                    continue;
                }

                var isDirectory = e.IsLink ? Directory.Exists(real) : e.IsDirectory;
                if (isDirectory)
                {
                    if (depth < maxDepth && visited.Add(real))
                    {
                        subdirectories.Add((path, real, depth + 1));
                    }

                    continue;
                }

                var error = Examine(path, real, root, candidates, explicitFile: false);
                if (error is not null)
                {
                    yield return new WalkStep(null, error);
                }
            }

            // This folder's models go out before the walk goes deeper.
            yield return new WalkStep(candidates, null);

            // Pushed in reverse so folders are walked in name order.
            for (var i = subdirectories.Count - 1; i >= 0; i--)
            {
                stack.Push(subdirectories[i]);
            }
        }
    }

    private readonly record struct Entry(string Name, bool IsDirectory, bool IsLink);

    private static List<Entry> List(string dir)
    {
        var options = new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0, RecurseSubdirectories = false, ReturnSpecialDirectories = false };
        var enumerable = new FileSystemEnumerable<Entry>(dir, (ref FileSystemEntry e) => new Entry(e.FileName.ToString(), e.IsDirectory, (e.Attributes & FileAttributes.ReparsePoint) != 0), options);
        var list = enumerable.ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>Checks the magic; a GGUF file becomes a candidate, a non-GGUF file named .gguf an error.</summary>
    private GgufScanError? Examine(string path, string? real, GgufSearchRoot root, List<Candidate> candidates, bool explicitFile)
    {
        _files++;
        if (real is null)
        {
            return new GgufScanError(path, "GgufBrokenLink", GgufErrorCategory.ObjectNotFound, new FileNotFoundException($"'{path}' cannot be resolved.", path));
        }

        try
        {
            if (MagicProbe.HasGgufMagic(real))
            {
                candidates.Add(new Candidate(path, real, new FileInfo(real).Length, root));
                return null;
            }

            if (explicitFile || path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                return new GgufScanError(path, "GgufNotGguf", GgufErrorCategory.InvalidData, new GgufFormatException(GgufFormatError.NotGguf, path, 0, "the file does not start with the GGUF magic, so it is not a GGUF model whatever its name"));
            }

            return null;
        }
        catch (GgufFormatException ex)
        {
            // A FIFO, socket or device: reported only where a model was expected, like any other non-GGUF file.
            return explicitFile || path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
                ? new GgufScanError(path, ex.ErrorId, GgufErrorCategory.InvalidData, ex)
                : null;
        }
        catch (UnauthorizedAccessException ex)
        {
            return explicitFile || path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || OllamaManifestIndex.StoreOf(path) is not null
                ? new GgufScanError(path, "FileAccessDenied", GgufErrorCategory.PermissionDenied, ex)
                : null;
        }
        catch (IOException ex)
        {
            return new GgufScanError(path, "GgufReadError", GgufErrorCategory.ReadError, ex);
        }
    }

    /// <summary>One candidate per real file; the path shown is the friendliest (an HF snapshot rather than its blob).</summary>
    private static List<Candidate> Deduplicate(List<Candidate> candidates)
    {
        static int Rank(Candidate c) => HuggingFaceSnapshot().IsMatch(c.Path) ? 0 : HuggingFaceBlob().IsMatch(c.Path) ? 2 : 1;
        return candidates
            .GroupBy(c => c.RealPath, StringComparer.Ordinal)
            .Select(g => g.OrderBy(Rank).ThenBy(c => c.Path, StringComparer.Ordinal).First())
            .OrderBy(c => c.Path, StringComparer.Ordinal)
            .ToList();
    }

    private IEnumerable<GgufScanResult> Read(List<Candidate> candidates, CancellationToken cancellationToken)
    {
        // Split models: group the shards of one model by folder, prefix and count.
        var splits = candidates
            .Select(c => (Candidate: c, Split: GgufSplitName.Parse(Path.GetFileName(c.Path))))
            .Where(x => x.Split is not null)
            .GroupBy(x => (Path.GetDirectoryName(x.Candidate.Path), x.Split!.Prefix, x.Split.Count))
            .ToDictionary(g => g.Key, g => g.ToList());
        var done = new HashSet<Candidate>();

        foreach (var candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (done.Contains(candidate))
            {
                continue;
            }

            var split = GgufSplitName.Parse(Path.GetFileName(candidate.Path));
            IReadOnlyList<Candidate> shards = [candidate];
            if (split is not null && split.Count > 1)
            {
                var group = splits[(Path.GetDirectoryName(candidate.Path), split.Prefix, split.Count)];
                foreach (var s in group)
                {
                    done.Add(s.Candidate);
                }

                var byNumber = group.GroupBy(s => s.Split!.Number).ToDictionary(g => g.Key, g => g.First().Candidate);
                var missing = Enumerable.Range(1, split.Count).Where(n => !byNumber.ContainsKey(n)).ToArray();
                if (missing.Length > 0)
                {
                    yield return GgufScanResult.Of(ShardsMissing(candidate.Path, split, missing));
                    continue;
                }

                shards = Enumerable.Range(1, split.Count).Select(n => byNumber[n]).ToArray();
            }

            var size = shards.Sum(s => s.Length);
            if (size < (_options.MinSize ?? long.MinValue) || size > (_options.MaxSize ?? long.MaxValue))
            {
                continue;
            }

            Report("Reading headers", candidate.Path);
            var result = ReadModel(shards);
            if (result.Model is { } model)
            {
                if (_options.ModifiedAfter is { } after && model.LastWriteTime < after)
                {
                    continue;
                }

                _models++;
            }

            yield return result;
        }
    }

    /// <summary>How many shards are missing and the first few by name: a lone "x-00001-of-99999.gguf" is one short line.</summary>
    private static GgufScanError ShardsMissing(string foundPath, GgufSplitName split, int[] missing)
    {
        const int Listed = 5;
        var dir = Path.GetDirectoryName(foundPath) ?? string.Empty;
        var names = missing.Take(Listed).Select(n => Path.Combine(dir, split.FileNameOf(n))).ToArray();
        var more = missing.Length > Listed ? $" and {missing.Length - Listed} more" : string.Empty;
        var message = missing.Length == 1
            ? $"Split model '{split.Prefix}' has {split.Count} shards but {names[0]} is missing."
            : $"Split model '{split.Prefix}' has {split.Count} shards but {missing.Length} are missing: {string.Join(", ", names)}{more}.";
        return new GgufScanError(names[0], "GgufShardMissing", GgufErrorCategory.ObjectNotFound, new FileNotFoundException(message, names[0]));
    }

    private GgufScanResult ReadModel(IReadOnlyList<Candidate> shards)
    {
        var headers = new List<GgufHeader>(shards.Count);
        foreach (var shard in shards)
        {
            try
            {
                var header = GgufHeaderReader.Read(shard.RealPath);
                headers.Add(WithPath(header, shard.Path));
            }
            catch (GgufFormatException ex)
            {
                return GgufScanResult.Of(new GgufScanError(shard.Path, ex.ErrorId, GgufErrorCategory.InvalidData, ex));
            }
            catch (UnauthorizedAccessException ex)
            {
                return GgufScanResult.Of(new GgufScanError(shard.Path, "FileAccessDenied", GgufErrorCategory.PermissionDenied, ex));
            }
            catch (IOException ex)
            {
                return GgufScanResult.Of(new GgufScanError(shard.Path, "GgufReadError", GgufErrorCategory.ReadError, ex));
            }
            catch (NotSupportedException ex)
            {
                // A file that cannot seek (swapped for a pipe after it was checked) is one bad file, not the end of the scan.
                return GgufScanResult.Of(new GgufScanError(shard.Path, "GgufReadError", GgufErrorCategory.ReadError, ex));
            }
        }

        var first = shards[0];
        var source = first.Root.Source;
        string? name = null;
        string? repository = null;
        string? snapshot = null;
        IReadOnlyList<string> aliases = [];
        GgufModelKind? kind = null;

        if (OllamaManifestIndex.StoreOf(first.Path) is { } store)
        {
            source = GgufModelSource.Ollama;
            if (!_ollamaStores.TryGetValue(store, out var index))
            {
                _ollamaStores[store] = index = OllamaManifestIndex.Load(store);
            }

            var uses = index.Lookup(Path.GetFileName(first.Path));
            if (uses.Count > 0)
            {
                name = uses[0].Name;
                kind = uses[0].Kind;
                aliases = uses.Skip(1).Select(u => u.Name).Distinct(StringComparer.Ordinal).ToArray();
            }
        }
        else if (HuggingFaceSnapshot().Match(first.Path) is { Success: true } hf)
        {
            source = GgufModelSource.HuggingFace;
            repository = RepoId(hf.Groups["repo"].Value);
            snapshot = first.Path[..(hf.Index + hf.Length - 1)];
        }
        else if (HuggingFaceBlob().Match(first.Path) is { Success: true } blob)
        {
            source = GgufModelSource.HuggingFace;
            repository = RepoId(blob.Groups["repo"].Value);
        }
        else if (source == GgufModelSource.File)
        {
            source = InferSource(first.Path);
        }

        if (source == GgufModelSource.LMStudio && repository is null)
        {
            // LM Studio keeps models as <publisher>/<repo>/<file>.gguf under its models folder.
            var rootFull = Path.GetFullPath(first.Root.Path);
            var relative = first.Root.Source == GgufModelSource.LMStudio ? Path.GetRelativePath(rootFull, first.Path) : LmStudioRelative(first.Path);
            var parts = relative?.Split(Path.DirectorySeparatorChar);
            if (parts is { Length: >= 3 })
            {
                repository = parts[0] + "/" + parts[1];
            }
        }

        try
        {
            return GgufScanResult.Of(new GgufModel(headers, source, name, kind)
            {
                Repository = repository,
                SnapshotPath = snapshot,
                Aliases = aliases,
            });
        }
        catch (GgufFormatException ex)
        {
            // Shards that only overflow together, a per-layer array no model has: bad data in this model only.
            return GgufScanResult.Of(new GgufScanError(first.Path, ex.ErrorId, GgufErrorCategory.InvalidData, ex));
        }
    }

    private static GgufHeader WithPath(GgufHeader header, string path) => header.Path == path ? header : header.WithPath(path);

    /// <summary>models--org--name -> org/name (Hugging Face replaces "/" with "--" in cache folder names).</summary>
    private static string RepoId(string folder) => folder.Replace("--", "/", StringComparison.Ordinal);

    private static GgufModelSource InferSource(string path)
    {
        var p = path.Replace('\\', '/');
        if (p.Contains("/.lmstudio/models/", StringComparison.Ordinal) || p.Contains("/lm-studio/models/", StringComparison.Ordinal))
        {
            return GgufModelSource.LMStudio;
        }

        return p.Contains("/.cache/llama.cpp/", StringComparison.Ordinal) ? GgufModelSource.LlamaCpp : GgufModelSource.File;
    }

    private static string? LmStudioRelative(string path)
    {
        var p = path.Replace('\\', '/');
        foreach (var marker in new[] { "/.lmstudio/models/", "/lm-studio/models/" })
        {
            var i = p.IndexOf(marker, StringComparison.Ordinal);
            if (i >= 0)
            {
                return p[(i + marker.Length)..].Replace('/', Path.DirectorySeparatorChar);
            }
        }

        return null;
    }

    private void Report(string activity, string path)
        => _options.Progress?.Invoke(new GgufScanProgress(activity, path, _directories, _files, _models));
}

using System.Text.Json;
using Gryphgen.Core.Gguf;
using Gryphgen.Core.Gguf.Discovery;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>Model stores built in temporary folders: Ollama, the Hugging Face cache, LM Studio, split models, links.</summary>
public sealed class GgufDiscoveryTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("gryphgen-home-");

    public void Dispose() => _home.Delete(recursive: true);

    private string Home(params string[] parts) => Path.Combine([_home.FullName, .. parts]);

    private GgufSearchEnvironment Environment(Dictionary<string, string>? variables = null)
        => new(name => variables is not null && variables.TryGetValue(name, out var v) ? v : null, _home.FullName);

    internal static byte[] SmallModel(string name = "Tiny", string architecture = "llama", Action<GgufWriter>? extra = null)
    {
        var writer = GgufModelBuilder.CreateWriter(new GgufModelShape { Name = name, Architecture = architecture, VocabularySize = 300, BlockCount = 1, EmbeddingLength = 256, FeedForwardLength = 256, FileType = "Q8_0" });
        extra?.Invoke(writer);
        using var stream = new MemoryStream();
        writer.Write(stream);
        return stream.ToArray();
    }

    private static string Write(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static (List<GgufModel> Models, List<GgufScanError> Errors) Scan(IEnumerable<GgufSearchRoot> roots, GgufFinderOptions? options = null)
    {
        var results = new GgufModelFinder(options).Find(roots).ToList();
        return (results.Where(r => r.Model is not null).Select(r => r.Model!).ToList(), results.Where(r => r.Error is not null).Select(r => r.Error!).ToList());
    }

    private static (List<GgufModel> Models, List<GgufScanError> Errors) Scan(params string[] paths)
        => Scan(paths.Select(p => new GgufSearchRoot(p, GgufModelSource.File)));

    [Fact]
    public void Find_OllamaStore_NamesBlobsFromManifests()
    {
        var store = Home(".ollama", "models");
        var model = Write(Path.Combine(store, "blobs", "sha256-" + new string('a', 64)), SmallModel("Llava"));
        Write(Path.Combine(store, "blobs", "sha256-" + new string('b', 64)), SmallModel("CLIP", "clip"));
        Write(Path.Combine(store, "blobs", "sha256-" + new string('c', 64)), "{\"temperature\": 0.7}"u8.ToArray());
        Write(Path.Combine(store, "blobs", "sha256-" + new string('d', 64)), SmallModel("Lora", extra: w => w.SetString("general.type", "adapter")));
        string Manifest(params (string MediaType, char Digest)[] layers) => JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            layers = layers.Select(l => new { mediaType = l.MediaType, digest = "sha256:" + new string(l.Digest, 64), size = 1 }),
        });
        var llava = Manifest(("application/vnd.ollama.image.model", 'a'), ("application/vnd.ollama.image.projector", 'b'), ("application/vnd.ollama.image.params", 'c'));
        Write(Path.Combine(store, "manifests", "registry.ollama.ai", "library", "llava", "7b"), System.Text.Encoding.UTF8.GetBytes(llava));
        Write(Path.Combine(store, "manifests", "registry.ollama.ai", "library", "llava", "latest"), System.Text.Encoding.UTF8.GetBytes(llava));
        Write(Path.Combine(store, "manifests", "hf.co", "someone", "tuned", "Q8_0"), System.Text.Encoding.UTF8.GetBytes(Manifest(("application/vnd.ollama.image.model", 'a'), ("application/vnd.ollama.image.adapter", 'd'))));

        var (models, errors) = Scan(GgufSearchRoots.GetDefault(Environment()));

        Assert.Empty(errors);
        Assert.Equal(3, models.Count);
        var main = Assert.Single(models, m => m.Path == model);
        Assert.Equal("hf.co/someone/tuned:Q8_0", main.Name); // names sort: hf.co/... before llava:...
        Assert.Equal(["llava:7b", "llava:latest"], main.Aliases);
        Assert.Equal(GgufModelSource.Ollama, main.Source);
        Assert.Equal(GgufModelKind.Model, main.Kind);
        var projector = Assert.Single(models, m => m.Kind == GgufModelKind.VisionProjector);
        Assert.Equal("llava:7b", projector.Name);
        Assert.Equal("clip", projector.Architecture);
        var adapter = Assert.Single(models, m => m.Kind == GgufModelKind.Adapter);
        Assert.Equal("hf.co/someone/tuned:Q8_0", adapter.Name);
    }

    [Fact]
    public void Find_HuggingFaceCache_ListsSnapshotLinkOnceWithRepoId()
    {
        var repo = Home(".cache", "huggingface", "hub", "models--TheOrg--Tiny-GGUF");
        Write(Path.Combine(repo, "blobs", "0123abcd"), SmallModel());
        Write(Path.Combine(repo, "blobs", "4567ef01"), "# Tiny\n"u8.ToArray());
        var snapshot = Path.Combine(repo, "snapshots", "c0ffee");
        Directory.CreateDirectory(snapshot);
        File.CreateSymbolicLink(Path.Combine(snapshot, "tiny.Q8_0.gguf"), "../../blobs/0123abcd");
        File.CreateSymbolicLink(Path.Combine(snapshot, "README.md"), "../../blobs/4567ef01");

        var (models, errors) = Scan(GgufSearchRoots.GetDefault(Environment()));

        Assert.Empty(errors);
        var model = Assert.Single(models);
        Assert.Equal(Path.Combine(snapshot, "tiny.Q8_0.gguf"), model.Path);
        Assert.Equal("TheOrg/Tiny-GGUF", model.Repository);
        Assert.Equal(snapshot, model.SnapshotPath);
        Assert.Equal(GgufModelSource.HuggingFace, model.Source);
    }

    [Fact]
    public void Find_LmStudioStore_TakesPublisherAndRepo()
    {
        var path = Write(Home(".lmstudio", "models", "lmstudio-community", "Tiny-GGUF", "Tiny-Q8_0.gguf"), SmallModel());

        var (models, errors) = Scan(GgufSearchRoots.GetDefault(Environment()));

        Assert.Empty(errors);
        var model = Assert.Single(models);
        Assert.Equal(path, model.Path);
        Assert.Equal(GgufModelSource.LMStudio, model.Source);
        Assert.Equal("lmstudio-community/Tiny-GGUF", model.Repository);
    }

    [Fact]
    public void DefaultRoots_FollowEnvironmentAndNeverIncludeTheFileSystemRoot()
    {
        var custom = Path.Combine(_home.FullName, "elsewhere");
        Directory.CreateDirectory(custom);
        Directory.CreateDirectory(Home("models"));
        var roots = GgufSearchRoots.GetDefault(Environment(new() { ["OLLAMA_MODELS"] = custom, ["HF_HOME"] = "/nonexistent-hf-home" }));
        Assert.Equal(new GgufSearchRoot(custom, GgufModelSource.Ollama), roots[0]);
        Assert.Contains(roots, r => r.Path == Home("models"));
        Assert.DoesNotContain(GgufSearchRoots.Candidates(Environment()), r => r.Path == "/");
        Assert.Contains(GgufSearchRoots.Candidates(Environment(new() { ["HF_HUB_CACHE"] = "/x/hub", ["LLAMA_CACHE"] = "/y" })), r => r.Path == "/x/hub" && r.Source == GgufModelSource.HuggingFace);
    }

    [Fact]
    public void Find_SplitModel_JoinsShardsAndNamesAMissingOne()
    {
        var dir = Home("models");
        byte[] Shard(int no, int count, bool first) => first
            ? SmallModel("Split", extra: w => w.Set("split.no", GgufValue.From((ushort)(no - 1))).Set("split.count", GgufValue.From((ushort)count)))
            : ShardTail(no, count);
        Write(Path.Combine(dir, "whole-00001-of-00002.gguf"), Shard(1, 2, true));
        Write(Path.Combine(dir, "whole-00002-of-00002.gguf"), Shard(2, 2, false));
        Write(Path.Combine(dir, "broken-00001-of-00003.gguf"), Shard(1, 3, true));
        Write(Path.Combine(dir, "broken-00003-of-00003.gguf"), Shard(3, 3, false));

        var (models, errors) = Scan(dir);

        var whole = Assert.Single(models);
        Assert.Equal(2, whole.Shards.Count);
        Assert.Equal(new FileInfo(whole.Shards[0]).Length + new FileInfo(whole.Shards[1]).Length, whole.FileSize);
        Assert.Equal(whole.GetHeaders().Sum(h => h.ParameterCount), whole.ParameterCount);
        Assert.Equal("Split", whole.Name);
        var missing = Assert.Single(errors);
        Assert.Equal("GgufShardMissing", missing.ErrorId);
        Assert.Equal(GgufErrorCategory.ObjectNotFound, missing.Category);
        Assert.Equal(Path.Combine(dir, "broken-00002-of-00003.gguf"), missing.Path);
        Assert.Contains("broken-00002-of-00003.gguf", missing.Message, StringComparison.Ordinal);
    }

    private static byte[] ShardTail(int no, int count)
    {
        var w = new GgufWriter().Set("split.no", GgufValue.From((ushort)(no - 1))).Set("split.count", GgufValue.From((ushort)count)).AddTensor("extra.weight", GgmlType.F32, 64, no);
        using var s = new MemoryStream();
        w.Write(s);
        return s.ToArray();
    }

    [Fact]
    public async Task Find_SymlinkLoopsAndDuplicateLinks_EndAndListOnce()
    {
        var dir = Home("models");
        var real = Write(Path.Combine(dir, "a", "model.gguf"), SmallModel());
        Directory.CreateSymbolicLink(Path.Combine(dir, "a", "loop"), "..");
        Directory.CreateSymbolicLink(Path.Combine(dir, "b"), Path.Combine(dir, "a"));
        File.CreateSymbolicLink(Path.Combine(dir, "again.gguf"), Path.Combine("a", "model.gguf"));
        File.CreateSymbolicLink(Path.Combine(dir, "x.gguf"), Path.Combine(dir, "y.gguf"));
        File.CreateSymbolicLink(Path.Combine(dir, "y.gguf"), Path.Combine(dir, "x.gguf"));

        var (models, errors) = await Task.Run(() => Scan(dir)).WaitAsync(TimeSpan.FromSeconds(20)); // a loop would time out

        var model = Assert.Single(models);
        Assert.Contains(model.Path, new[] { real, Path.Combine(dir, "again.gguf"), Path.Combine(dir, "b", "model.gguf") });
        Assert.All(errors, e => Assert.Equal("GgufBrokenLink", e.ErrorId));
        Assert.Equal(2, errors.Count); // x.gguf and y.gguf point at each other
    }

    [Fact]
    public void Find_TextFileNamedGguf_IsAStableErrorAndTheScanGoesOn()
    {
        var dir = Home("models");
        var fake = Write(Path.Combine(dir, "x.gguf"), "not a model\n"u8.ToArray());
        Write(Path.Combine(dir, "notes.txt"), "hello"u8.ToArray());
        var truncated = SmallModel();
        Write(Path.Combine(dir, "partial.gguf"), truncated[..(truncated.Length / 2)]);
        Write(Path.Combine(dir, "blob-without-extension"), SmallModel("No extension"));

        var (models, errors) = Scan(dir);

        Assert.Equal("No extension", Assert.Single(models).Name);
        Assert.Equal(2, errors.Count);
        var notGguf = Assert.Single(errors, e => e.Path == fake);
        Assert.Equal("GgufNotGguf", notGguf.ErrorId);
        Assert.Equal(GgufErrorCategory.InvalidData, notGguf.Category);
        Assert.Equal("GgufTruncated", Assert.Single(errors, e => e.Path.EndsWith("partial.gguf", StringComparison.Ordinal)).ErrorId);
    }

    [Fact]
    public void Find_DepthAndSizeFilters_LimitWhatIsReported()
    {
        var dir = Home("models");
        Write(Path.Combine(dir, "top.gguf"), SmallModel("Top"));
        Write(Path.Combine(dir, "one", "two", "deep.gguf"), SmallModel("Deep"));

        Assert.Equal(["Top"], Scan([new GgufSearchRoot(dir, GgufModelSource.File)], new GgufFinderOptions { Depth = 0 }).Models.Select(m => m.Name));
        Assert.Equal(2, Scan(dir).Models.Count);
        Assert.Empty(Scan([new GgufSearchRoot(dir, GgufModelSource.File)], new GgufFinderOptions { MinSize = 100L << 20 }).Models);
        Assert.Empty(Scan([new GgufSearchRoot(dir, GgufModelSource.File)], new GgufFinderOptions { ModifiedAfter = DateTime.Now.AddDays(1) }).Models);
        var missing = Assert.Single(Scan(Path.Combine(dir, "nope")).Errors);
        Assert.Equal("PathNotFound", missing.ErrorId);
    }

    [SkippableFact]
    public async Task Find_FolderWithFifos_DoesNotBlockOnThem()
    {
        Skip.If(OperatingSystem.IsWindows(), "no FIFOs");
        var dir = Home("models");
        Write(Path.Combine(dir, "model.gguf"), SmallModel());
        foreach (var name in new[] { "model1_to_model2", "pipe.gguf" })
        {
            using var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(dir, name));
            await mkfifo.WaitForExitAsync();
        }

        var (models, errors) = await Task.Run(() => Scan(dir)).WaitAsync(TimeSpan.FromSeconds(20)); // opening a FIFO for reading would block

        Assert.Single(models);
        Assert.Equal("GgufNotGguf", Assert.Single(errors).ErrorId);
    }

    [SkippableFact]
    public async Task Find_FifoHoldingGgufBytes_IsOneErrorAndTheScanGoesOn()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs opened through libc");
        var dir = Home("models");
        Write(Path.Combine(dir, "b-model.gguf"), SmallModel("After"));
        Write(Path.Combine(dir, "0-model.gguf"), SmallModel("Before"));
        var fifo = Path.Combine(dir, "a-pipe.gguf");
        using var writer = FifoHoldingGgufMagic(fifo);

        var (models, errors) = await Task.Run(() => Scan(dir)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(["Before", "After"], models.Select(m => m.Name));
        var error = Assert.Single(errors);
        Assert.Equal(fifo, error.Path);
        Assert.Equal("GgufNotGguf", error.ErrorId);
        Assert.Contains("FIFO", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ReadHeader_FifoWithoutWriter_FailsAtOnceInsteadOfBlockingInOpen()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs");
        var fifo = Home("lonely.gguf");
        Assert.Equal(0, LibC.MkFifo(fifo, Convert.ToUInt32("600", 8)));

        var read = Task.Run(() => GgufHeaderReader.Read(fifo));
        var ex = await Assert.ThrowsAsync<GgufFormatException>(() => read.WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(GgufFormatError.NotGguf, ex.Error);
        Assert.Contains("FIFO", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Find_LinkToAFifo_IsRefusedWithoutOpeningIt()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs");
        var dir = Home("models");
        Write(Path.Combine(dir, "model.gguf"), SmallModel());
        var fifo = Home("elsewhere", "pipe");
        Directory.CreateDirectory(Path.GetDirectoryName(fifo)!);
        using var writer = FifoHoldingGgufMagic(fifo);
        File.CreateSymbolicLink(Path.Combine(dir, "planted.gguf"), fifo);

        var (models, errors) = await Task.Run(() => Scan(dir)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Single(models);
        Assert.Equal("GgufNotGguf", Assert.Single(errors).ErrorId);
        Assert.Equal(4, writer.Unread()); // the magic is still in the pipe: nobody opened it to read
    }

    [SkippableFact]
    public async Task Find_FolderOfFifosSocketsAndDeviceLinks_ReadsTheModelsAndReportsOnlyThoseNamedAsModels()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs, sockets and /dev");
        var dir = Home("models");
        Write(Path.Combine(dir, "model.gguf"), SmallModel("Real"));
        Write(Path.Combine(dir, "deeper", "other.gguf"), SmallModel("Deeper"));
        Assert.Equal(0, LibC.MkFifo(Path.Combine(dir, "deeper", "plain-fifo"), Convert.ToUInt32("600", 8)));
        using var held = FifoHoldingGgufMagic(Path.Combine(dir, "fifo.gguf"));
        File.CreateSymbolicLink(Path.Combine(dir, "zero.gguf"), "/dev/zero");
        File.CreateSymbolicLink(Path.Combine(dir, "null"), "/dev/null");
        File.CreateSymbolicLink(Path.Combine(dir, "tty.gguf"), "/dev/tty");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(dir, "socket.gguf")));

        var (models, errors) = await Task.Run(() => Scan(dir)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(["Deeper", "Real"], models.Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["fifo.gguf", "socket.gguf", "tty.gguf", "zero.gguf"], errors.Select(e => Path.GetFileName(e.Path)).Order(StringComparer.Ordinal));
        Assert.All(errors, e => Assert.Equal("GgufNotGguf", e.ErrorId));
        Assert.Contains(errors, e => e.Message.Contains("character device", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("socket", StringComparison.Ordinal));
        Assert.Equal(4, held.Unread());
    }

    [SkippableFact]
    public async Task Find_OllamaStoreWithAFifoAmongItsManifests_NamesTheBlobFromTheRealManifest()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs");
        var store = Home(".ollama", "models");
        Write(Path.Combine(store, "blobs", "sha256-" + new string('a', 64)), SmallModel("Blob"));
        var manifest = System.Text.Json.JsonSerializer.Serialize(new { layers = new[] { new { mediaType = "application/vnd.ollama.image.model", digest = "sha256:" + new string('a', 64) } } });
        Write(Path.Combine(store, "manifests", "registry.ollama.ai", "library", "real", "latest"), System.Text.Encoding.UTF8.GetBytes(manifest));
        Directory.CreateDirectory(Path.Combine(store, "manifests", "registry.ollama.ai", "library", "planted"));
        Assert.Equal(0, LibC.MkFifo(Path.Combine(store, "manifests", "registry.ollama.ai", "library", "planted", "latest"), Convert.ToUInt32("600", 8)));

        var (models, errors) = await Task.Run(() => Scan(store)).WaitAsync(TimeSpan.FromSeconds(20)); // reading the FIFO would wait for a writer

        Assert.Empty(errors);
        Assert.Equal("real:latest", Assert.Single(models).Name);
    }

    /// <summary>A FIFO held open for reading and writing (so opening it never blocks) with "GGUF" waiting in it.</summary>
    private static HeldFifo FifoHoldingGgufMagic(string path)
    {
        Assert.Equal(0, LibC.MkFifo(path, Convert.ToUInt32("600", 8)));
        var fd = LibC.Open(path, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        Assert.True(fd >= 0);
        var held = new HeldFifo(fd);
        held.Write("GGUF"u8);
        return held;
    }

    private sealed class HeldFifo(int fd) : IDisposable
    {
        public unsafe void Write(ReadOnlySpan<byte> bytes)
        {
            fixed (byte* p = bytes)
            {
                Assert.Equal(bytes.Length, (int)LibC.Write(fd, p, (nuint)bytes.Length));
            }
        }

        public unsafe int Unread()
        {
            int n;
            Assert.Equal(0, LibC.Ioctl(fd, LibC.FIONREAD, &n));
            return n;
        }

        public void Dispose() => _ = LibC.Close(fd);
    }

    [Fact]
    public void Find_PerLayerArrayOfMoreElementsThanAnArrayHolds_IsAnErrorForThatFileOnly()
    {
        var dir = Home("models");
        Write(Path.Combine(dir, "good.gguf"), SmallModel("Good"));
        var huge = new HostileGguf()
            .String("general.architecture", "llama")
            .UInt32("llama.block_count", 2)
            .ArrayClaiming("llama.attention.head_count_kv", GgufValueType.UInt8, (1UL << 31) + 5)
            .WriteSparse(Path.Combine(dir, "huge-array.gguf"), (1L << 31) + 5);

        var (models, errors) = Scan(dir);

        Assert.Equal(["Good"], models.Select(m => m.Name));
        var error = Assert.Single(errors);
        Assert.Equal(huge, error.Path);
        Assert.Equal("GgufInvalidFormat", error.ErrorId);
        Assert.Contains($"llama.attention.head_count_kv has {(1L << 31) + 5} per-layer values, more than the {GgufModel.MaxPerLayerValues}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToArray_DeferredArrayLongerThanDotNetHolds_IsGgufFormatException()
    {
        var path = new HostileGguf()
            .String("general.architecture", "llama")
            .ArrayClaiming("test.bytes", GgufValueType.UInt8, (1UL << 31) + 5)
            .WriteSparse(Home("huge-bytes.gguf"), (1L << 31) + 5);
        var array = GgufHeaderReader.Read(path).Metadata.GetArray("test.bytes")!;

        Assert.Equal((1L << 31) + 5, array.Count);
        var ex = Assert.Throws<GgufFormatException>(() => array.ToArray());
        Assert.Contains("longer than the", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_SplitShardsWhoseParameterCountsOverflowOnlyTogether_IsAnErrorForThatModelOnly()
    {
        var dir = Home("models");
        Write(Path.Combine(dir, "good.gguf"), SmallModel("Good"));
        foreach (var shard in new[] { 1, 2 })
        {
            // 3 * 2^61 elements each fit in 64 bits; two of them do not. Type 9999 is unknown, so no data is promised.
            new HostileGguf()
                .String("general.architecture", "llama")
                .Tensor($"blk.{shard}.weight", 9999, 0, 3UL << 61)
                .WriteSparse(Path.Combine(dir, $"liar-0000{shard}-of-00002.gguf"), 64); // room for the aligned data section
        }

        var (models, errors) = Scan(dir);

        Assert.Equal(["Good"], models.Select(m => m.Name));
        var error = Assert.Single(errors);
        Assert.Equal(Path.Combine(dir, "liar-00001-of-00002.gguf"), error.Path);
        Assert.Equal("GgufInvalidFormat", error.ErrorId);
        Assert.Contains("parameter counts of its 2 shards add up to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_LoneFirstShardOf99999_SaysHowManyAreMissingAndListsAFew()
    {
        var dir = Home("models");
        Write(Path.Combine(dir, "x-00001-of-99999.gguf"), SmallModel());

        var error = Assert.Single(Scan(dir).Errors);

        Assert.Equal("GgufShardMissing", error.ErrorId);
        Assert.Equal(Path.Combine(dir, "x-00002-of-99999.gguf"), error.Path);
        Assert.StartsWith("Split model 'x' has 99999 shards but 99998 are missing: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir, "x-00006-of-99999.gguf") + " and 99993 more.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("x-00007-of-99999", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 1000, $"a {error.Message.Length}-character message");
    }

    [Fact]
    public void ReadHeader_StringClaiming100MB_IsRefusedWithoutAllocatingIt()
    {
        var path = new HostileGguf()
            .String("general.architecture", "llama")
            .StringClaiming("tokenizer.chat_template", 100_000_000)
            .WriteSparse(Home("long-string.gguf"), 100_000_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<GgufFormatException>(() => GgufHeaderReader.Read(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(GgufFormatError.InvalidFormat, ex.Error);
        Assert.Contains($"a string value is 100000000 bytes long, more than the {16 * 1024 * 1024} allowed", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
    }

    [SkippableFact]
    public void Find_UnreadableDirectory_IsDirectoryAccessDenied()
    {
        Skip.If(OperatingSystem.IsWindows() || Environment_IsRoot(), "root reads every directory");
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var dir = Home("models");
        Write(Path.Combine(dir, "ok.gguf"), SmallModel());
        var locked = Path.Combine(dir, "locked");
        Directory.CreateDirectory(locked);
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var (models, errors) = Scan(dir);
            Assert.Single(models);
            Assert.Equal("DirectoryAccessDenied", Assert.Single(errors).ErrorId);
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static bool Environment_IsRoot() => System.Environment.UserName == "root";
}

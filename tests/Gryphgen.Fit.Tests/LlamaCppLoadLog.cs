using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LLama.Extensions;
using LLama.Common;
using LLama.Native;

namespace Gryphgen.Fit.Tests;

/// <summary>The buffer sizes llama.cpp printed while loading one model and creating one context, in bytes.</summary>
internal sealed record LlamaCppBuffers(long Model, long Kv, long Output, long Compute, IReadOnlyList<string> Lines, IReadOnlyDictionary<string, long> ByBuffer)
{
    /// <summary>Bytes of the tensors llama.cpp reported as unused and skipped (NextN blocks): inside a memory-mapped buffer's range, never read.</summary>
    public long SkippedBytes { get; init; }

    /// <summary>Bytes of one kind ("model", "KV", "output", "compute") on backends whose name starts with <paramref name="backend"/> ("CUDA0", "CPU").</summary>
    public long Of(string backend, string kind) =>
        ByBuffer.Where(p => p.Key.StartsWith(backend, StringComparison.Ordinal) && p.Key.EndsWith(" " + kind, StringComparison.Ordinal)).Sum(p => p.Value);

    public long Total => Model + Kv + Output + Compute;
}

/// <summary>
/// Loads a GGUF file with llama.cpp (LLamaSharp's CPU backend) and captures its log lines "model buffer size",
/// "KV buffer size" / "KV self size", "output buffer size" and "compute buffer size". CPU only, memory-mapped,
/// no decode: a sparse file is mapped and never read.
/// </summary>
internal static partial class LlamaCppLoadLog
{
    private static readonly Lock Gate = new();
    private static readonly List<string> Captured = new();
    private static bool _configured;

    [GeneratedRegex(@"^(?<what>.*?)\s+(?<kind>model buffer size|KV buffer size|output buffer size|compute buffer size)\s*=\s*(?<mib>[0-9.]+) MiB", RegexOptions.CultureInvariant)]
    private static partial Regex BufferLine();

    [GeneratedRegex(@"^(llama_kv_cache|llama_memory_recurrent): size =\s*(?<mib>[0-9.]+) MiB", RegexOptions.CultureInvariant)]
    private static partial Regex CacheSizeLine();

    [GeneratedRegex(@"model has unused tensor \S+ \(size = (?<bytes>[0-9]+) bytes\)", RegexOptions.CultureInvariant)]
    private static partial Regex UnusedTensorLine();

    private static void Configure()
    {
        if (_configured)
        {
            return;
        }

        // GRYPH_LLAMA_LIBRARY: a libllama.so built from the llama.cpp commit LLamaSharp 0.30.0 binds (e.g. a CUDA
        // build on a GPU machine); unset, LLamaSharp.Backend.Cpu's library is used.
        if (Environment.GetEnvironmentVariable("GRYPH_LLAMA_LIBRARY") is { Length: > 0 } library)
        {
            NativeLibraryConfig.All.WithLibrary(library, null);
        }

        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            lock (Captured)
            {
                Captured.Add(message.TrimEnd());
            }
        });
        _configured = true;
    }

    /// <summary>
    /// Sizes a context without allocating it (llama.cpp's no_alloc load, as its own --fit uses): KV cache and
    /// recurrent state from the caches' "size =" lines, compute and output from their buffer lines, weights from
    /// llama_model_size (every tensor of the file, skipped ones included: subtract <see cref="LlamaCppBuffers.SkippedBytes"/>).
    /// </summary>
    public static LlamaCppBuffers MeasureWithoutAllocating(string path, uint context, GGMLType cacheType, bool flashAttention, uint seqMax = 1) =>
        Measure(path, context, cacheType, flashAttention, seqMax: seqMax, sizeOnly: true);

    /// <summary>
    /// Bytes llama.cpp's llama_state_seq_get_size_ext(PARTIAL_ONLY) reports for sequence 0 after one decoded token:
    /// what a llama-server context checkpoint copies (recurrent state, sliding-window cells).
    /// </summary>
    public static long PartialStateOfOneDecodedToken(string path, uint context)
    {
        lock (Gate)
        {
            Configure();
            var p = new ModelParams(path) { ContextSize = context, GpuLayerCount = 0, Threads = 1, LoadMode = LLamaLoadMode.MemoryMap };
            using (p.ToLlamaModelParams(out var nativeModel))
            {
                nativeModel.use_extra_bufts = false;
                using var handle = SafeLlamaModelHandle.LoadFromFile(path, nativeModel);
                p.ToLlamaContextParams(out var nativeContext);
                using var ctx = SafeLLamaContextHandle.Create(handle, nativeContext);
                var batch = new LLamaBatch();
                batch.Add((LLamaToken)1, 0, LLamaSeqId.Zero, true);
                if (ctx.Decode(batch) != DecodeResult.Ok)
                {
                    throw new InvalidOperationException($"llama.cpp could not decode a token with '{path}'.");
                }

                var size = Marshal.GetDelegateForFunctionPointer<StateSeqGetSizeExt>(Export("llama_state_seq_get_size_ext"));
                return (long)size(ctx.DangerousGetHandle(), 0, 1 /* LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY */);
            }
        }
    }

    [GeneratedRegex(@"model size:\s*(?<mib>[0-9.]+) MiB", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectorModelSizeLine();

    /// <summary>
    /// Loads a vision projector with llama.cpp's mtmd beside its text model (CPU, with the warm-up llama-server
    /// does) and returns what it printed: the projector's "model size" and its encoder's "compute buffer size".
    /// </summary>
    public static (long Weights, long Compute) MeasureProjector(string textModel, string projector, bool flashAttention)
    {
        lock (Gate)
        {
            Configure();
            lock (Captured)
            {
                Captured.Clear();
            }

            var p = new ModelParams(textModel) { GpuLayerCount = 0, ContextSize = 256, Threads = 1, LoadMode = LLamaLoadMode.MemoryMap };
            using var weights = LLama.LLamaWeights.LoadFromFile(p);
            var mtmd = MtmdContextParams.Default();
            mtmd.UseGpu = false;
            mtmd.Warmup = true;
            mtmd.FlashAttentionType = flashAttention ? LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED : LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
            // mtmd's clip loader writes its figures to stderr, not through llama.cpp's log callback: catch them
            // by pointing descriptor 2 at a file for the duration of the load.
            var stderrFile = Path.GetTempFileName();
            var savedStderr = Dup(2);
            try
            {
                using (var file = new FileStream(stderrFile, FileMode.Create, FileAccess.Write))
                {
                    _ = Dup2((int)file.SafeFileHandle.DangerousGetHandle(), 2);
                    using (LLama.MtmdWeights.LoadFromFile(projector, weights, mtmd))
                    {
                    }

                    _ = FlushAll(IntPtr.Zero);
                    _ = Dup2(savedStderr, 2);
                }
            }
            finally
            {
                _ = Dup2(savedStderr, 2);
                _ = Close(savedStderr);
            }

            var lines = File.ReadAllLines(stderrFile);
            File.Delete(stderrFile);

            static long Bytes(Match m) => (long)Math.Round(double.Parse(m.Groups["mib"].Value, CultureInfo.InvariantCulture) * 1024 * 1024);
            var size = lines.Select(l => ProjectorModelSizeLine().Match(l)).FirstOrDefault(m => m.Success);
            var compute = lines.Select(l => BufferLine().Match(l)).LastOrDefault(m => m.Success && m.Groups["kind"].Value == "compute buffer size");
            if (size is null || compute is null)
            {
                throw new InvalidOperationException($"mtmd printed no projector sizes; its last lines: {string.Join(" | ", lines.TakeLast(12))}");
            }

            return (Bytes(size), Bytes(compute));
        }
    }

    [DllImport("libc", EntryPoint = "dup")]
    private static extern int Dup(int descriptor);

    [DllImport("libc", EntryPoint = "dup2")]
    private static extern int Dup2(int from, int to);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int descriptor);

    [DllImport("libc", EntryPoint = "fflush")]
    private static extern int FlushAll(IntPtr stream);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nuint StateSeqGetSizeExt(IntPtr context, int sequence, uint flags);

    /// <summary>A function of the libllama LLamaSharp has loaded (found through this process's mappings): LLamaSharp binds no partial-state call.</summary>
    private static IntPtr Export(string name)
    {
        var library = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .First(f => f.EndsWith("/libllama.so", StringComparison.Ordinal));
        return NativeLibrary.GetExport(NativeLibrary.Load(library), name);
    }

    public static LlamaCppBuffers Measure(string path, uint context, GGMLType cacheType = GGMLType.GGML_TYPE_F16, bool flashAttention = false, uint batch = 2048, uint ubatch = 512, uint seqMax = 1, int gpuLayers = 0, bool sizeOnly = false)
    {
        lock (Gate)
        {
            Configure();
            lock (Captured)
            {
                Captured.Clear();
            }

            var p = new ModelParams(path)
            {
                ContextSize = context,
                BatchSize = batch,
                UBatchSize = ubatch,
                SeqMax = seqMax,
                TypeK = cacheType,
                TypeV = cacheType,
                FlashAttention = flashAttention,
                GpuLayerCount = gpuLayers,
                Threads = 1,
            };
            // Memory-mapped and without CPU_REPACK buffers: a sparse file is then mapped and never read, and the
            // model buffer is the tensor data as stored, which is what a GPU backend gets.
            long tensorBytes;
            p.LoadMode = sizeOnly ? LLamaLoadMode.None : LLamaLoadMode.MemoryMap;
            using (p.ToLlamaModelParams(out var nativeModel))
            {
                nativeModel.use_extra_bufts = false;
                nativeModel.no_alloc = sizeOnly;
                using var handle = SafeLlamaModelHandle.LoadFromFile(path, nativeModel);
                tensorBytes = (long)handle.SizeInBytes;
                p.ToLlamaContextParams(out var nativeContext);

                // llama-server's default (common params): sliding-window layers hold the window, not the context.
                nativeContext.swa_full = false;
                using var ctx = SafeLLamaContextHandle.Create(handle, nativeContext);
            }

            string[] lines;
            lock (Captured)
            {
                lines = Captured.ToArray();
            }

            long model = 0, kv = 0, output = 0, compute = 0;
            var byBuffer = new Dictionary<string, long>(StringComparer.Ordinal);
            var kept = new List<string>();
            long cacheSizes = 0, skipped = 0;
            foreach (var line in lines)
            {
                if (UnusedTensorLine().Match(line) is { Success: true } unused)
                {
                    skipped += long.Parse(unused.Groups["bytes"].Value, CultureInfo.InvariantCulture);
                    continue;
                }

                if (CacheSizeLine().Match(line) is { Success: true } size)
                {
                    kept.Add(line);
                    cacheSizes += (long)Math.Round(double.Parse(size.Groups["mib"].Value, CultureInfo.InvariantCulture) * 1024 * 1024);
                    continue;
                }

                var m = BufferLine().Match(line);
                if (!m.Success)
                {
                    if (line.Contains("buffer size", StringComparison.Ordinal) || line.Contains("n_ctx", StringComparison.Ordinal) || line.Contains("cache", StringComparison.Ordinal) || line.Contains("layer", StringComparison.Ordinal))
                    {
                        kept.Add(line);
                    }

                    continue;
                }

                kept.Add(line);
                var bytes = (long)Math.Round(double.Parse(m.Groups["mib"].Value, CultureInfo.InvariantCulture) * 1024 * 1024);
                var backend = m.Groups["what"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                var key = backend + " " + m.Groups["kind"].Value.Split(' ')[0];
                byBuffer[key] = byBuffer.GetValueOrDefault(key) + bytes;
                switch (m.Groups["kind"].Value)
                {
                    case "model buffer size": model += bytes; break;
                    case "KV buffer size": kv += bytes; break;
                    case "output buffer size": output += bytes; break;
                    default: compute += bytes; break;
                }
            }

            return new LlamaCppBuffers(sizeOnly ? tensorBytes : model, sizeOnly ? cacheSizes : kv, output, compute, kept, byBuffer) { SkippedBytes = skipped };
        }
    }
}

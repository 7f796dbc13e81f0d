using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Loader;
using Gryphgen.Core.Agents;

namespace Gryphgen.PowerShell.Agents;

/// <summary>
/// Loads the optional llama.cpp companion (llama/Gryphgen.LlamaSharp.dll beside the module) into its own
/// AssemblyLoadContext on first use. Its dependencies (LLamaSharp, System.Text.Json 10, ...) then never clash
/// with PowerShell's, and Import-Module never pays for them. Gryphgen.Core is shared with the default context so
/// the backend it returns is the module's own IChatBackend type. Native libraries come from
/// llama/runtimes/linux-x64/native/&lt;variant&gt;/: cuda12 when present (see about_Gryphgen), else the best CPU
/// build this processor runs (avx512, avx2, avx, noavx).
/// </summary>
internal sealed class LlamaCompanion : AssemblyLoadContext
{
    public const string FolderName = "llama";
    private const string BackendType = "Gryphgen.LlamaSharp.LlamaChatBackend";
    private static readonly object Gate = new();
    private static readonly string[] GpuVariants = ["cuda12", "vulkan"];
    private static LlamaCompanion? _loaded;
    private readonly string _folder;
    private readonly IReadOnlyList<string> _nativeCandidates;
    private string? _nativeFolder;

    private LlamaCompanion(string folder)
        : base("Gryphgen.LlamaSharp", isCollectible: false)
    {
        _folder = folder;
        _nativeCandidates = NativeCandidates(Path.Combine(folder, "runtimes", "linux-x64", "native"));
    }

    /// <summary>The companion folder: llama/ beside Gryphgen.PowerShell.dll, or $env:GRYPHGEN_LLAMA_DIR.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("GRYPHGEN_LLAMA_DIR") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Path.GetDirectoryName(typeof(LlamaCompanion).Assembly.Location)!, FolderName);

    /// <summary>True when a GPU build of llama.cpp (cuda12 or vulkan) is installed beside the CPU ones.</summary>
    public static bool HasGpuBuild =>
        GpuVariants.Any(v => File.Exists(Path.Combine(DefaultFolder, "runtimes", "linux-x64", "native", v, "libllama.so")));

    /// <summary>Creates the backend for <paramref name="options"/> (the model loads here: call it on the agent's thread).</summary>
    public static IChatBackend CreateBackend(LocalModelOptions options)
    {
        var context = Load();
        var assembly = context.LoadFromAssemblyPath(Path.Combine(context._folder, "Gryphgen.LlamaSharp.dll"));
        var create = assembly.GetType(BackendType, throwOnError: true)!.GetMethod("Create", BindingFlags.Public | BindingFlags.Static)!;
        try
        {
            return (IChatBackend)create.Invoke(null, [options])!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfoThrow(ex.InnerException);
            throw;
        }
    }

    private static void ExceptionDispatchInfoThrow(Exception ex) =>
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex).Throw();

    private static LlamaCompanion Load()
    {
        lock (Gate)
        {
            if (_loaded is not null)
            {
                return _loaded;
            }

            var folder = DefaultFolder;
            if (!File.Exists(Path.Combine(folder, "Gryphgen.LlamaSharp.dll")))
            {
                throw new ChatBackendException(ChatErrorKind.BackendUnavailable,
                    $"The llama.cpp companion is not installed: '{Path.Combine(folder, "Gryphgen.LlamaSharp.dll")}' is missing. Build the module with ./build.ps1 -Task Build, or use -ScriptBlock or -OpenAIBaseUri.");
            }

            _loaded = new LlamaCompanion(folder);
            return _loaded;
        }
    }

    /// <summary>The native folders to try, best first: GPU builds, then the CPU builds this processor runs.</summary>
    private static List<string> NativeCandidates(string native)
    {
        var preferences = new List<string> { "cuda12", "vulkan" };
        if (Avx512F.IsSupported)
        {
            preferences.Add("avx512");
        }

        if (Avx2.IsSupported)
        {
            preferences.Add("avx2");
        }

        if (Avx.IsSupported)
        {
            preferences.Add("avx");
        }

        preferences.Add("noavx");
        preferences.Add(string.Empty);
        return preferences.Select(v => v.Length == 0 ? native : Path.Combine(native, v))
            .Where(f => File.Exists(Path.Combine(f, "libllama.so"))).ToList();
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is "Gryphgen.Core")
        {
            return null; // shared with the module, so IChatBackend is one type
        }

        var path = Path.Combine(_folder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var name = Path.GetFileNameWithoutExtension(unmanagedDllName);
        var file = (name.StartsWith("lib", StringComparison.Ordinal) ? name : "lib" + name) + ".so";
        lock (Gate)
        {
            if (_nativeFolder is null)
            {
                // The first variant whose libllama.so loads wins (a cuda12 build fails to load without the CUDA
                // runtime, and the CPU build is used instead); RUNPATH $ORIGIN finds libggml*.so beside it.
                foreach (var folder in _nativeCandidates)
                {
                    if (NativeLibrary.TryLoad(Path.Combine(folder, "libllama.so"), out _))
                    {
                        _nativeFolder = folder;
                        break;
                    }
                }
            }
        }

        var path = _nativeFolder is null ? null : Path.Combine(_nativeFolder, file);
        return path is not null && File.Exists(path) ? NativeLibrary.Load(path) : IntPtr.Zero;
    }
}

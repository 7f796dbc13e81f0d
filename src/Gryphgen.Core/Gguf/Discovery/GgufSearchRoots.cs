// Discovery lives in Gguf/Discovery (namespace Gryphgen.Core.Gguf.Discovery): where models are on disk and what
// the stores around them (Ollama manifests, Hugging Face cache folders) say about them. Reading a file is Gguf/.
namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>A folder to search and the tool whose store it is.</summary>
public sealed record GgufSearchRoot(string Path, GgufModelSource Source);

/// <summary>
/// The process environment as discovery sees it: variables and the home folder. Tests pass their own so the
/// default roots point into a temporary tree.
/// </summary>
public sealed record GgufSearchEnvironment(Func<string, string?> GetVariable, string HomeDirectory)
{
    public static GgufSearchEnvironment Current { get; } = new(
        Environment.GetEnvironmentVariable,
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
}

/// <summary>The places local LLM tools keep GGUF files. Never "/": the original searched the whole disk.</summary>
public static class GgufSearchRoots
{
    /// <summary>Every candidate root, existing or not, in search order.</summary>
    public static IReadOnlyList<GgufSearchRoot> Candidates(GgufSearchEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var home = environment.HomeDirectory;
        string Home(params string[] parts) => Path.Combine([home, .. parts]);
        string? Var(string name, params string[] parts) => environment.GetVariable(name) is { Length: > 0 } v ? Path.Combine([v, .. parts]) : null;

        var roots = new List<GgufSearchRoot>();
        void Add(string? path, GgufModelSource source)
        {
            if (path is not null)
            {
                roots.Add(new(path, source));
            }
        }

        Add(Var("OLLAMA_MODELS"), GgufModelSource.Ollama);
        Add(Home(".ollama", "models"), GgufModelSource.Ollama);
        Add("/usr/share/ollama/.ollama/models", GgufModelSource.Ollama);
        Add(Home(".lmstudio", "models"), GgufModelSource.LMStudio);
        Add(Home(".cache", "lm-studio", "models"), GgufModelSource.LMStudio);
        Add(Var("HF_HUB_CACHE"), GgufModelSource.HuggingFace);
        Add(Var("HF_HOME", "hub"), GgufModelSource.HuggingFace);
        Add(Home(".cache", "huggingface", "hub"), GgufModelSource.HuggingFace);
        Add(Var("LLAMA_CACHE"), GgufModelSource.LlamaCpp);
        Add(Home(".cache", "llama.cpp"), GgufModelSource.LlamaCpp);
        Add(Home("models"), GgufModelSource.File);
        Add("/mnt/models", GgufModelSource.File);
        Add("/opt/models", GgufModelSource.File);
        return roots;
    }

    /// <summary>The candidate roots that exist as folders, each listed once.</summary>
    public static IReadOnlyList<GgufSearchRoot> GetDefault(GgufSearchEnvironment environment)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return Candidates(environment)
            .Where(r => Directory.Exists(r.Path) && seen.Add(Path.GetFullPath(r.Path)))
            .ToArray();
    }
}

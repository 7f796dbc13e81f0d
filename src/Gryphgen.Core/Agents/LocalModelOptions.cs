namespace Gryphgen.Core.Agents;

/// <summary>What the in-process llama.cpp backend (Gryphgen.LlamaSharp) needs to load a GGUF model.</summary>
public sealed class LocalModelOptions
{
    public required string ModelPath { get; init; }

    /// <summary>Layers offloaded to the GPU (0 = CPU only; a large number offloads all); applies only with a GPU backend.</summary>
    public int GpuLayerCount { get; init; }

    /// <summary>The context window in tokens that llama.cpp allocates.</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>The most tokens one reply may generate.</summary>
    public int MaxTokens { get; init; } = 64;

    /// <summary>Sampling temperature; 0 is greedy (deterministic).</summary>
    public float Temperature { get; init; }

    /// <summary>The folder that holds runtimes/&lt;rid&gt;/native/... llama.cpp libraries; null lets LLamaSharp search its defaults.</summary>
    public string? NativeLibraryFolder { get; init; }
}

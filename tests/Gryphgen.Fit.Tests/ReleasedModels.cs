using System.Collections.Concurrent;
using Gryphgen.Core.Gguf;
using LLama.Native;

namespace Gryphgen.Fit.Tests;

/// <summary>
/// The released-model presets (<see cref="ReleasedModelShapes"/>) written once as sparse GGUF files for the test
/// run, with llama.cpp's weights for each measured once (a memory-mapped load reads none of the hole).
/// </summary>
public sealed class ReleasedModels : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _weights = new(StringComparer.Ordinal);

    public ReleasedModels()
    {
        Folder = Path.Combine(Path.GetTempPath(), "gryph-released-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        foreach (var (name, shape) in Shapes)
        {
            GgufModelBuilder.Write(shape, PathOf(name));
        }
    }

    public static IReadOnlyList<(string Name, GgufModelShape Shape)> Shapes { get; } =
    [
        ("qwen3.5-27b", ReleasedModelShapes.Qwen35Dense27B),
        ("qwen3.5-35b-a3b", ReleasedModelShapes.Qwen35Moe35BA3B),
        ("qwen3-next-80b-a3b", ReleasedModelShapes.Qwen3Next80BA3B),
        ("nemotron-h-8b", ReleasedModelShapes.NemotronH8B),
        ("granite-4.0-h-tiny", ReleasedModelShapes.Granite4HTiny),
        ("lfm2-8b-a1b", ReleasedModelShapes.Lfm2Moe8BA1B),
        ("lfm2-2.6b", ReleasedModelShapes.Lfm2Dense26B),
        ("deepseek-v3", ReleasedModelShapes.DeepSeekV3),
        ("glm-4.5-air", ReleasedModelShapes.Glm45Air),
        ("gemma-4-31b", ReleasedModelShapes.Gemma4Dense31B),
        ("llama-3.1-8b", ReleasedModelShapes.Llama31Dense8B),
        ("qwen3-8b", ReleasedModelShapes.Qwen3Dense8B),
        ("qwen3-30b-a3b", ReleasedModelShapes.Qwen3Moe30BA3B),
        ("gemma-3-12b", ReleasedModelShapes.Gemma3Dense12B),
        ("gpt-oss-20b", ReleasedModelShapes.GptOss20B),
        ("mistral-small-3.2", ReleasedModelShapes.MistralSmall32),
        ("llama-4-scout", ReleasedModelShapes.Llama4Scout),
        ("minimax-m2", ReleasedModelShapes.MiniMaxM2),
    ];

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name + ".gguf");

    /// <summary>
    /// llama.cpp's weights for a preset, bytes: llama_model_size less the tensors it reports as unused (a NextN
    /// block), which it never loads. (A memory-mapped CPU buffer spans those too, but their pages are never read,
    /// and a GPU backend never uploads them.) Sized without mapping: mapping a 385 GB sparse file costs seconds.
    /// </summary>
    public long WeightsOf(string name) =>
        _weights.GetOrAdd(name, n => LlamaCppLoadLog.MeasureWithoutAllocating(PathOf(n), 256, GGMLType.GGML_TYPE_F16, false) is var b ? b.Model - b.SkippedBytes : 0);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

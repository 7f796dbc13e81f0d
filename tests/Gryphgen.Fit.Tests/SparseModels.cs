using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>The builder's presets written once as sparse GGUF files (header only, data a hole) for the whole test run.</summary>
public sealed class SparseModels : IDisposable
{
    public SparseModels()
    {
        Folder = Path.Combine(Path.GetTempPath(), "gryph-fit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        foreach (var (name, shape) in Shapes)
        {
            GgufModelBuilder.Write(shape, PathOf(name));
        }
    }

    public static IReadOnlyList<(string Name, GgufModelShape Shape)> Shapes { get; } =
    [
        ("dense8b", GgufModelShape.DenseLlama8B),
        ("moe", GgufModelShape.SmallMoe),
        ("swa", GgufModelShape.SlidingWindow7B),
        ("perlayer", GgufModelShape.PerLayerKvHeads),
    ];

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name + ".gguf");

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

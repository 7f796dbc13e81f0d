using Gryphgen.Core.Gguf;

namespace Gryphgen.Fit.Tests;

/// <summary>A test's own temporary folder of sparse GGUF models, written by the project's builder and deleted afterwards.</summary>
public abstract class SparseModelFolder : IDisposable
{
    protected SparseModelFolder() => Directory.CreateDirectory(Folder);

    protected string Folder { get; } = Path.Combine(Path.GetTempPath(), "gryph-fit-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Writes <paramref name="shape"/> as <paramref name="name"/>.gguf and reads it back.</summary>
    protected GgufModel Write(GgufModelShape shape, string name)
    {
        var path = Path.Combine(Folder, name + ".gguf");
        GgufModelBuilder.Write(shape, path);
        return new GgufModel([GgufHeaderReader.Read(path)]);
    }
}

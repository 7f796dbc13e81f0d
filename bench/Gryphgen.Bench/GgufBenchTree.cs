using System.Globalization;
using Gryphgen.Core.Gguf;

namespace Gryphgen.Bench;

/// <summary>
/// A model folder as people have them: nested folders of READMEs, configs and safetensors-like files, with GGUF
/// models (small, written by GgufWriter) scattered among them.
/// </summary>
internal static class GgufBenchTree
{
    public static int Create(string root, int fileCount, int modelCount)
    {
        var shape = new GgufModelShape { VocabularySize = 300, BlockCount = 1, EmbeddingLength = 256, FeedForwardLength = 256, FileType = "Q8_0" };
        var model = new MemoryStream();
        GgufModelBuilder.CreateWriter(shape).Write(model);
        var modelBytes = model.ToArray();
        var filler = new byte[512];
        new Random(1).NextBytes(filler);
        var every = Math.Max(1, fileCount / Math.Max(1, modelCount));
        var models = 0;
        for (var i = 0; i < fileCount; i++)
        {
            var dir = Path.Combine(root, $"org{i % 10}", $"repo{i / 10 % 100}", $"rev{i / 1000}");
            Directory.CreateDirectory(dir);
            if (i % every == 0 && models < modelCount)
            {
                File.WriteAllBytes(Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"model-{i}.Q8_0.gguf")), modelBytes);
                models++;
            }
            else
            {
                File.WriteAllBytes(Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"file-{i}.{(i % 3 == 0 ? "json" : i % 3 == 1 ? "md" : "safetensors")}")), filler);
            }
        }

        return models;
    }
}

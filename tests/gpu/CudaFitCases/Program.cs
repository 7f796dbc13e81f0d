using System.Globalization;
using System.Text.Json;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;

// Usage: Gryphgen.CudaFitCases <output folder> <llama-2-tiny-random.gguf>
// Writes <output>/models/<name>.gguf.head (the bytes before the tensor data; the data of these models is a hole, so
// the header grown to the file's length with `truncate -s` is the whole file) or <name>.gguf (the tiny model, real
// data), and <output>/expected.json: for every case Gryphgen's estimate with everything on the host (ngl 0, what a
// CPU build prints) and with everything offloaded (ngl = blocks + 1, what a CUDA build prints).
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Gryphgen.CudaFitCases <output folder> <llama-2-tiny-random.gguf>");
    return 2;
}

var output = Path.GetFullPath(args[0]);
var models = Path.Combine(output, "models");
Directory.CreateDirectory(models);
var scratch = Path.Combine(Path.GetTempPath(), "gryph-cuda-fit-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(scratch);

// The Fit tests' models (tests/Gryphgen.Fit.Tests/SparseModels.cs) and their contexts, with the cache types a
// GPU user picks: f16 with and without flash attention, q8_0 (which llama.cpp allows only with flash attention).
(string Name, GgufModelShape Shape)[] shapes =
[
    ("dense8b", GgufModelShape.DenseLlama8B),
    ("moe", GgufModelShape.SmallMoe),
    ("swa", GgufModelShape.SlidingWindow7B),
    ("perlayer", GgufModelShape.PerLayerKvHeads),
];
var cases = new List<(string Model, int Context, KvCacheType Cache, bool FlashAttention)>
{
    // The tiny model's head size (4) is below a quantised block: f16 only.
    ("tiny", 1000, KvCacheType.F16, false),
    ("tiny", 2048, KvCacheType.F16, true),
};
foreach (var (name, _) in shapes)
{
    cases.Add((name, 1000, KvCacheType.F16, false));
    cases.Add((name, 4096, KvCacheType.F16, true));
    cases.Add((name, 4096, KvCacheType.Q8_0, true));
    cases.Add((name, 8192, KvCacheType.F16, false));
    cases.Add((name, 8192, KvCacheType.Q8_0, true));
}

var files = new Dictionary<string, string>(StringComparer.Ordinal);
using var stream = File.Create(Path.Combine(output, "expected.json"));
using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
json.WriteStartObject();
json.WriteString("generator", "tests/gpu/CudaFitCases (Gryphgen.Core LlamaCppMemoryEstimate)");
json.WriteString("created", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
json.WriteStartObject("tolerances");
json.WriteNumber("weights", 0.01);
json.WriteNumber("kv", 0.01);
json.WriteNumber("output", 0.01);
json.WriteNumber("compute", 0.15);
json.WriteNumber("total", 0.05);
json.WriteNumber("roundingBytes", 0.006 * 1024 * 1024);
json.WriteEndObject();

json.WriteStartArray("models");
try
{
    var tiny = Path.Combine(models, "tiny.gguf");
    File.WriteAllBytes(tiny, File.ReadAllBytes(args[1]));
    files["tiny"] = tiny;
    WriteModel("tiny", "tiny.gguf", new FileInfo(tiny).Length, sparse: false);
    foreach (var (name, shape) in shapes)
    {
        var full = Path.Combine(scratch, name + ".gguf");
        GgufModelBuilder.Write(shape, full);
        var header = GgufHeaderReader.Read(full);
        EnsureHole(full, header.DataOffset);
        var head = Path.Combine(models, name + ".gguf.head");
        CopyPrefix(full, head, header.DataOffset);
        files[name] = full;
        WriteModel(name, name + ".gguf.head", header.FileLength, sparse: true);
    }

    json.WriteEndArray();
    json.WriteStartArray("cases");
    foreach (var (model, context, cache, flashAttention) in cases)
    {
        var gguf = new GgufModel([GgufHeaderReader.Read(files[model])]);
        var cost = new LlamaCppModelCost(gguf);
        var settings = new LlamaCppSettings
        {
            ContextLength = context,
            CacheTypeK = cache,
            CacheTypeV = cache,
            FlashAttention = flashAttention,
            DeviceOverheadBytes = 0,
        };
        json.WriteStartObject();
        json.WriteString("id", string.Create(CultureInfo.InvariantCulture, $"{model}-ctx{context}-{KvCacheTypes.CommandLineName(cache)}-fa{(flashAttention ? 1 : 0)}"));
        json.WriteString("model", model);
        json.WriteNumber("context", context);
        json.WriteString("cache", KvCacheTypes.CommandLineName(cache));
        json.WriteBoolean("flashAttention", flashAttention);
        WriteEstimate("cpu", cost.Estimate(settings, 0));
        WriteEstimate("cuda", cost.Estimate(settings, cost.TotalLayers));
        json.WriteEndObject();
    }

    json.WriteEndArray();
    json.WriteEndObject();
}
finally
{
    Directory.Delete(scratch, recursive: true);
}

json.Flush();
Console.WriteLine($"{cases.Count} cases, {files.Count} models -> {output}");
return 0;

void WriteModel(string name, string file, long length, bool sparse)
{
    json.WriteStartObject();
    json.WriteString("name", name);
    json.WriteString("file", file);
    json.WriteNumber("length", length);
    json.WriteBoolean("sparse", sparse);
    json.WriteEndObject();
}

// Bytes per buffer: "device*" are what the GPU holds (CUDA0), "host*" what stays in host memory (CPU_Mapped
// weights, CUDA_Host or CPU compute), "output" the logits buffer (CUDA_Host or CPU).
void WriteEstimate(string name, LlamaCppMemoryEstimate e)
{
    var device = e.Devices[0];
    json.WriteStartObject(name);
    json.WriteNumber("gpuLayers", e.GpuLayers);
    json.WriteNumber("paddedContext", e.ContextLength);
    json.WriteNumber("deviceWeights", device.WeightsBytes);
    json.WriteNumber("deviceKv", device.KvCacheBytes);
    json.WriteNumber("deviceCompute", device.ComputeBytes);
    json.WriteNumber("hostWeights", e.HostWeightsBytes);
    json.WriteNumber("hostKv", e.HostKvCacheBytes);
    json.WriteNumber("hostCompute", e.HostComputeBytes);
    json.WriteNumber("output", e.OutputBytes);
    json.WriteNumber("total", e.TotalBytes);
    json.WriteEndObject();
}

static void CopyPrefix(string from, string to, long length)
{
    using var source = File.OpenRead(from);
    using var target = File.Create(to);
    var buffer = new byte[1 << 20];
    for (long left = length; left > 0;)
    {
        var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
        if (read == 0)
        {
            throw new EndOfStreamException($"{from} ends before {length} bytes.");
        }

        target.Write(buffer, 0, read);
        left -= read;
    }
}

// The device rebuilds each model as header + zeros; that is only the same file if the data really is all zeros.
static void EnsureHole(string path, long from)
{
    using var source = File.OpenRead(path);
    source.Position = from;
    var buffer = new byte[1 << 22];
    int read;
    while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
    {
        if (buffer.AsSpan(0, read).IndexOfAnyExcept((byte)0) >= 0)
        {
            throw new InvalidDataException($"{path}: the tensor data is not all zeros; it cannot travel as a header.");
        }
    }
}

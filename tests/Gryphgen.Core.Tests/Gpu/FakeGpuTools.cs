using Gryphgen.Core.Gpu;

namespace Gryphgen.Core.Tests.Gpu;

/// <summary>Simulated nvidia-smi / amd-smi / rocm-smi: which are on PATH and what each prints or fails with.</summary>
internal sealed class FakeGpuTools : IGpuToolRunner
{
    private readonly Dictionary<string, Func<IReadOnlyList<string>, string>> _tools = [];

    public List<(string Tool, IReadOnlyList<string> Arguments)> Runs { get; } = [];

    /// <summary>Puts <paramref name="name"/> on the fake PATH; <paramref name="respond"/> gets the arguments.</summary>
    public FakeGpuTools With(string name, Func<IReadOnlyList<string>, string> respond)
    {
        _tools[name] = respond;
        return this;
    }

    public string? Find(string name) => _tools.ContainsKey(name) ? "/fake/bin/" + name : null;

    public string Run(string path, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        Runs.Add((name, arguments));
        return _tools[name](arguments);
    }
}

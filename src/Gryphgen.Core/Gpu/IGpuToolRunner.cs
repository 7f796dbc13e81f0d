namespace Gryphgen.Core.Gpu;

/// <summary>Finds and runs the GPU command-line tools; tests stand in canned outputs.</summary>
internal interface IGpuToolRunner
{
    /// <summary>The full path of <paramref name="name"/> on PATH, or null.</summary>
    string? Find(string name);

    /// <summary>Runs the tool and returns its standard output; throws <see cref="GpuToolException"/> on failure.</summary>
    string Run(string path, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken);
}

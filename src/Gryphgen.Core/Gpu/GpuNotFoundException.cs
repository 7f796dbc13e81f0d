namespace Gryphgen.Core.Gpu;

/// <summary>No GPU backend answered. <see cref="Tried"/> says what was tried and why each failed.</summary>
public sealed class GpuNotFoundException : Exception
{
    public GpuNotFoundException()
        : this(Array.Empty<string>())
    {
    }

    public GpuNotFoundException(string message)
        : base(message)
    {
        Tried = Array.Empty<string>();
    }

    public GpuNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
        Tried = Array.Empty<string>();
    }

    public GpuNotFoundException(IReadOnlyList<string> tried)
        : base("No GPU found. Tried: " + (tried.Count == 0 ? "nothing" : string.Join("; ", tried)) + ".")
    {
        Tried = tried;
    }

    /// <summary>One line per backend: what was looked for and why it did not answer.</summary>
    public IReadOnlyList<string> Tried { get; }
}

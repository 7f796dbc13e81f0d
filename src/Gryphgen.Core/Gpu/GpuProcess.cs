namespace Gryphgen.Core.Gpu;

/// <summary>A process that holds memory on a GPU.</summary>
public sealed record GpuProcess
{
    /// <summary>Operating-system process id.</summary>
    public required int Pid { get; init; }

    /// <summary>Process name or path; null where the tool or the OS did not say.</summary>
    public string? Name { get; init; }

    /// <summary>GPU memory the process holds, in bytes; null where unsupported (Windows WDDM reports none).</summary>
    public long? UsedMemory { get; init; }

    /// <summary>C (compute), G (graphics) or C+G where the tool says; null otherwise.</summary>
    public string? Type { get; init; }

    public override string ToString() => Name is null ? Pid.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Pid} {Name}";
}

namespace Gryphgen.Core.Gpu;

/// <summary>Selects GPUs by index and/or UUID (case-insensitive); an empty list matches every GPU.</summary>
public sealed record GpuStatusFilter(IReadOnlyCollection<int>? Indexes, IReadOnlyCollection<string>? Uuids)
{
    public bool Matches(GpuStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (Indexes is { Count: > 0 } && !Indexes.Contains(status.Index))
        {
            return false;
        }

        return Uuids is not { Count: > 0 }
            || (status.Uuid is not null && Uuids.Any(u => string.Equals(u, status.Uuid, StringComparison.OrdinalIgnoreCase)));
    }
}

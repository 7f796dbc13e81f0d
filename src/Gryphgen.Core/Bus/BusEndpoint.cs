namespace Gryphgen.Core.Bus;

/// <summary>A durable endpoint on the bus, as Get-GryphPipe shows it: its stream and how much waits in it.</summary>
public sealed class BusEndpoint
{
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    public required string Subject { get; init; }

    public required string Stream { get; init; }

    /// <summary>Messages stored and not yet acknowledged by a receiver.</summary>
    public long Messages { get; init; }

    public long Bytes { get; init; }

    /// <summary>Delivered to a receiver that has not acknowledged them yet.</summary>
    public long AckPending { get; init; }

    /// <summary>Receivers waiting for messages now.</summary>
    public long WaitingReceivers { get; init; }

    public int Replicas { get; init; }

    public DateTime CreationTime { get; init; }

    public override string ToString() => Subject;
}

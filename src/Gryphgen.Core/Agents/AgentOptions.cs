namespace Gryphgen.Core.Agents;

/// <summary>How an agent serves its endpoint.</summary>
public sealed class AgentOptions
{
    /// <summary>The endpoint name the agent answers as (its inbox is the FIFO of that name in <see cref="PipeDirectory"/>).</summary>
    public required string Name { get; init; }

    /// <summary>The directory that holds endpoint inboxes; replies go to the sender's inbox there.</summary>
    public required string PipeDirectory { get; init; }

    public bool AllowShared { get; init; }

    /// <summary>Where the inbox and the senders' inboxes live; the FIFOs of <see cref="PipeDirectory"/> when null.</summary>
    public Messaging.IMessageTransport? Transport { get; init; }

    internal Messaging.IMessageTransport EffectiveTransport => Transport ?? new Messaging.FifoTransport(PipeDirectory, AllowShared);

    /// <summary>Sent as the first turn of every conversation; none when null or empty.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>How many user and assistant turns per peer are kept (oldest dropped first); the system prompt is not counted.</summary>
    public int MaxHistoryMessages { get; init; } = 20;

    /// <summary>The agent's own log file; none when null.</summary>
    public string? LogPath { get; init; }

    /// <summary>How long a reply may wait for the sender's inbox to have a reader.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public long MaxMessageBytes { get; init; } = Messaging.FrameFormat.DefaultMaxMessageBytes;

    /// <summary>True when the agent created its inbox, so stopping it may remove the inbox.</summary>
    public bool CreatedEndpoint { get; init; }
}

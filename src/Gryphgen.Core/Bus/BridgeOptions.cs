using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Bus;

/// <summary>How a bridge relays one local endpoint.</summary>
public sealed class BridgeOptions
{
    /// <summary>The endpoint relayed: local peers write to the FIFO of this name, and the bridge publishes to the bus endpoint of the same name.</summary>
    public required string Name { get; init; }

    public required string PipeDirectory { get; init; }

    public bool AllowShared { get; init; }

    /// <summary>Local peers write plain lines, not frames (echo, cat, the original Perl scripts).</summary>
    public bool Raw { get; init; }

    /// <summary>With <see cref="Raw"/>: the sender the lines are published as, so replies to it come back as lines into its local FIFO.</summary>
    public string? RawSender { get; init; }

    /// <summary>Endpoints whose bus messages are written into their local FIFOs from the start, before any of them has sent.</summary>
    public IReadOnlyList<string> Returns { get; init; } = [];

    public long MaxMessageBytes { get; init; } = FrameFormat.DefaultMaxMessageBytes;

    /// <summary>How long a message for a local endpoint waits for its reader before the bridge tries again (the message stays on the bus meanwhile).</summary>
    public TimeSpan LocalWriteTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public string? LogPath { get; init; }
}

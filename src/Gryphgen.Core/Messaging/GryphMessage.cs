namespace Gryphgen.Core.Messaging;

/// <summary>One message between endpoints: an envelope (id, sender, recipient, reply link, time, metadata) and content.</summary>
public sealed class GryphMessage
{
    /// <summary>Unique id (32 hex digits); replies name it in <see cref="ReplyTo"/>.</summary>
    public required string Id { get; init; }

    /// <summary>The sender's endpoint name, where replies go; null from raw peers.</summary>
    public string? From { get; init; }

    /// <summary>The recipient endpoint name (or pipe path).</summary>
    public string? To { get; init; }

    /// <summary>The id of the message this one answers.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>When the sender created it, in UTC.</summary>
    public required DateTime Timestamp { get; init; }

    /// <summary>The text, byte for byte as sent (UTF-8 on the wire).</summary>
    public required string Content { get; init; }

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;

    /// <summary>Size of <see cref="Content"/> on the wire, in UTF-8 bytes.</summary>
    public long Bytes { get; init; }

    internal static IReadOnlyDictionary<string, string> EmptyMetadata { get; } = new Dictionary<string, string>();

    public static string NewId() => Guid.NewGuid().ToString("N");

    public override string ToString() => Content;
}

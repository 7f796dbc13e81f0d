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

    /// <summary>
    /// 32 random lowercase hex digits, like a GUID's "N" form. Drawn from <see cref="Random.Shared"/> (seeded from
    /// the system's randomness, then generated in process) rather than Guid.NewGuid, which here costs a read of
    /// /dev/urandom per id: a system call per message.
    /// </summary>
    public static string NewId() => string.Create(32, 0, static (digits, _) =>
    {
        Span<byte> random = stackalloc byte[16];
        Random.Shared.NextBytes(random);
        const string hex = "0123456789abcdef";
        for (var i = 0; i < random.Length; i++)
        {
            digits[2 * i] = hex[random[i] >> 4];
            digits[(2 * i) + 1] = hex[random[i] & 0xF];
        }
    });

    public override string ToString() => Content;
}

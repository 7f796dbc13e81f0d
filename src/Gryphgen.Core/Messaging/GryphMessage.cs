using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Gryphgen.Core.Messaging;

/// <summary>One message between endpoints: an envelope (id, sender, recipient, reply link, time, metadata) and content.</summary>
/// <remarks>
/// A received message keeps its content as the UTF-8 bytes that arrived (checked to be valid UTF-8 on arrival)
/// and makes the string the first time <see cref="Content"/> is read. Forwarding a message, counting it or
/// writing it elsewhere then never turns a large content into a string and back: for a 1 MiB message the string
/// is 2 MiB of fresh memory, which costs more than the pipe itself.
/// <para>
/// Those bytes may live in a buffer rented from <see cref="ArrayPool{T}.Shared"/>. A consumer that is done with a
/// message can hand it back with <see cref="Release"/>, so that the next message is read into memory already in
/// use instead of fresh memory (page faults, and collections of the large object heap for big messages). A message
/// that is never released is simply collected; PowerShell users never need to call it.
/// </para>
/// </remarks>
public sealed class GryphMessage
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ReadOnlyMemory<byte> _received;
    private byte[]? _rented;
    private bool _hasReceived;
    private string? _content;
    private DateTime _utcTimestamp;
    private IReadOnlyDictionary<string, string> _metadata = TextMap.Empty;

    public GryphMessage()
    {
    }

    /// <summary>
    /// A message whose content is <paramref name="utf8Content"/>, already checked to be valid UTF-8, which lies in
    /// <paramref name="rented"/> (from <see cref="ArrayPool{T}.Shared"/>) when that is given.
    /// </summary>
    [SetsRequiredMembers]
#pragma warning disable CS8618 // Content is never null: it is made from the bytes kept here when first read
    internal GryphMessage(string id, DateTime timestamp, ReadOnlyMemory<byte> utf8Content, byte[]? rented = null)
    {
        Id = id;
        Timestamp = timestamp;
        _received = utf8Content;
        _rented = rented;
        _hasReceived = true;
        Bytes = utf8Content.Length;
    }
#pragma warning restore CS8618

    /// <summary>Unique id (32 hex digits); replies name it in <see cref="ReplyTo"/>.</summary>
    public required string Id { get; init; }

    /// <summary>The sender's endpoint name, where replies go; null from raw peers.</summary>
    public string? From { get; init; }

    /// <summary>The recipient endpoint name (or pipe path).</summary>
    public string? To { get; init; }

    /// <summary>The id of the message this one answers.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>
    /// When the sender created it, as local time (Kind Local), like every time Gryphgen shows; the wire carries it
    /// in UTC. A time of Kind Unspecified is taken as local, as <see cref="DateTime.ToUniversalTime"/> takes it.
    /// </summary>
    public required DateTime Timestamp
    {
        get => _utcTimestamp.ToLocalTime();
        init => _utcTimestamp = value.ToUniversalTime();
    }

    /// <summary>The same instant in UTC, as frames and bus headers carry it, without a round trip through local time.</summary>
    internal DateTime UtcTimestamp => _utcTimestamp;

    /// <summary>The text, byte for byte as sent (UTF-8 on the wire).</summary>
    public required string Content
    {
        // Two threads reading it at once may both decode; they get equal strings, and one is kept. A message
        // built from a string always has one, so no string and no bytes means it was released unread.
        get => _content ??= _hasReceived
            ? Utf8.GetString(_received.Span)
            : throw new ObjectDisposedException(nameof(GryphMessage), $"Message {Id} was released before its Content was read.");
        init => _content = value;
    }

    /// <summary>Extra string pairs; as text (Export-Csv) "key=value; key=value".</summary>
    public IReadOnlyDictionary<string, string> Metadata { get => _metadata; init => _metadata = TextMap.Of(value); }

    /// <summary>Size of <see cref="Content"/> on the wire, in UTF-8 bytes.</summary>
    public long Bytes { get; init; }

    internal static IReadOnlyDictionary<string, string> EmptyMetadata => TextMap.Empty;

    /// <summary>
    /// The content as UTF-8 without making a string: the bytes as received, or empty with false for a message
    /// built from a string (encode <see cref="Content"/> then).
    /// </summary>
    /// <remarks>A method, not a property, so that PowerShell's formatting and ConvertTo-Json do not show it.</remarks>
    public bool TryGetUtf8Content(out ReadOnlyMemory<byte> utf8)
    {
        utf8 = _received;
        return _hasReceived;
    }

    /// <summary>
    /// Hands the received bytes back for reuse by the next message read. Afterwards <see cref="Content"/> is still
    /// there if it had been read, and otherwise throws <see cref="ObjectDisposedException"/>; bytes taken from
    /// <see cref="TryGetUtf8Content"/> before must no longer be used. Like any pooled buffer, release a message
    /// once, from one thread, when nothing else reads it. Does nothing for a message built from a string.
    /// </summary>
    public void Release()
    {
        if (!_hasReceived)
        {
            return; // built from a string, or released already
        }

        _hasReceived = false;
        _received = default;
        if (_rented is { } rented)
        {
            _rented = null;
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

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

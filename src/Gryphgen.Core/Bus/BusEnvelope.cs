using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Gryphgen.Core.Messaging;
using NATS.Client.Core;

namespace Gryphgen.Core.Bus;

/// <summary>
/// The envelope on the bus (about_Gryphgen_Distributed): the payload is the content's UTF-8 bytes, unchanged, and
/// the envelope travels in NATS headers, so any NATS client can read a message without parsing a frame.
/// </summary>
public static class BusEnvelope
{
    public const string IdHeader = "Gryph-Id";
    public const string FromHeader = "Gryph-From";
    public const string ToHeader = "Gryph-To";
    public const string ReplyToHeader = "Gryph-Reply-To";
    public const string TimeHeader = "Gryph-Time";
    public const string MetaHeader = "Gryph-Meta";
    public const string VersionHeader = "Gryph-Version";

    /// <summary>JetStream's de-duplication header; it carries the message id, so a retried publish is stored once.</summary>
    public const string MessageIdHeader = "Nats-Msg-Id";

    public static NatsHeaders ToHeaders(GryphMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var headers = new NatsHeaders
        {
            [VersionHeader] = "1",
            [IdHeader] = HeaderValue(IdHeader, message.Id),
            [TimeHeader] = message.UtcTimestamp.ToString("O", CultureInfo.InvariantCulture),
        };
        AddOptional(headers, FromHeader, message.From);
        AddOptional(headers, ToHeader, message.To);
        AddOptional(headers, ReplyToHeader, message.ReplyTo);
        if (message.Metadata.Count > 0)
        {
            headers[MetaHeader] = JsonSerializer.Serialize(message.Metadata); // JSON escapes line breaks, which headers cannot hold
        }

        return headers;
    }

    /// <summary>Rebuilds a message from a bus delivery; throws <see cref="FormatException"/> on a payload or header that is not valid.</summary>
    public static GryphMessage FromDelivery(NatsHeaders? headers, ReadOnlyMemory<byte> payload, string endpoint)
    {
        if (!Utf8.IsValid(payload.Span))
        {
            throw new FormatException("the payload is not valid UTF-8");
        }

        var id = Header(headers, IdHeader) ?? Header(headers, MessageIdHeader);
        var metadata = GryphMessage.EmptyMetadata;
        if (Header(headers, MetaHeader) is { } meta)
        {
            try
            {
                metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(meta) ?? metadata;
            }
            catch (JsonException ex)
            {
                throw new FormatException($"the {MetaHeader} header is not a JSON object of strings", ex);
            }
        }

        var time = DateTime.UtcNow; // a peer that sends no Gryph-Time: the message is dated when it arrives
        if (Header(headers, TimeHeader) is { } text)
        {
            if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out time))
            {
                throw new FormatException($"the {TimeHeader} header '{text}' is not an ISO-8601 time");
            }
        }

        // The message keeps the payload as its content, made a string only when read (see GryphMessage).
        return new GryphMessage(string.IsNullOrEmpty(id) ? GryphMessage.NewId() : id, time, payload)
        {
            From = Header(headers, FromHeader),
            To = Header(headers, ToHeader) ?? endpoint,
            ReplyTo = Header(headers, ReplyToHeader),
            Metadata = metadata,
        };
    }

    private static string? Header(NatsHeaders? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    private static void AddOptional(NatsHeaders headers, string name, string? value)
    {
        if (value is not null)
        {
            headers[name] = HeaderValue(name, value);
        }
    }

    private static string HeaderValue(string name, string value)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new GryphgenException("GryphMessageMalformed", GryphgenErrorKind.InvalidArgument,
                $"The {name} value holds a line break, which a bus header cannot carry.", value);
        }

        return value;
    }
}

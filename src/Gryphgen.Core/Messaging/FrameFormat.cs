using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// The wire format (documented in about_Gryphgen_Protocol). A frame is:
/// <code>
/// "GRY1 " + 10-digit header length + " " + 15-digit body length + "\n"   (32 ASCII bytes)
/// header: UTF-8 JSON {"id","from","to","replyTo","time","meta"}
/// body:   the content, UTF-8
/// "END\n"
/// </code>
/// A fixed-size prefix lets a reader take exactly one frame in two reads and never over-read; the trailer
/// lets it notice a frame cut short by a dead sender and spliced with the next one.
/// </summary>
public static class FrameFormat
{
    public const int PrefixLength = 32;
    public const int TrailerLength = 4;
    public const long DefaultMaxMessageBytes = 64L * 1024 * 1024;
    public const long MaxHeaderBytes = 1024 * 1024;

    /// <summary>The largest body a receiver can hold: a frame is read into one array.</summary>
    public const long LargestBodyBytes = 0x7FFFFFC7 - PrefixLength - MaxHeaderBytes - TrailerLength;

    public static ReadOnlySpan<byte> Magic => "GRY1 "u8;

    public static ReadOnlySpan<byte> Trailer => "END\n"u8;

    /// <summary>Encodes <paramref name="message"/> into one contiguous frame, rented from the shared pool.</summary>
    public static (byte[] Buffer, int Length) Encode(GryphMessage message)
    {
        using var encoder = new FrameEncoder();
        var buffer = Array.Empty<byte>();
        var length = encoder.Append(message, ref buffer, 0, static (_, _, needed) => ArrayPool<byte>.Shared.Rent(needed));
        return (buffer, length);
    }

    [MethodImpl(HotPath.Options)]
    public static void WritePrefix(Span<byte> destination, int headerLength, long bodyLength)
    {
        Magic.CopyTo(destination);
        WriteDigits(destination.Slice(5, 10), headerLength);
        destination[15] = (byte)' ';
        WriteDigits(destination.Slice(16, 15), bodyLength);
        destination[31] = (byte)'\n';
    }

    /// <summary>Parses a prefix; false when it is not a well-formed frame start.</summary>
    [MethodImpl(HotPath.Options)]
    public static bool TryParsePrefix(ReadOnlySpan<byte> prefix, out int headerLength, out long bodyLength)
    {
        headerLength = 0;
        bodyLength = 0;
        if (prefix.Length < PrefixLength || !prefix.StartsWith(Magic) || prefix[15] != (byte)' ' || prefix[31] != (byte)'\n')
        {
            return false;
        }

        if (!TryReadDigits(prefix.Slice(5, 10), out var header) || !TryReadDigits(prefix.Slice(16, 15), out bodyLength))
        {
            return false;
        }

        if (header > int.MaxValue)
        {
            return false;
        }

        headerLength = (int)header;
        return true;
    }

    public static byte[] EncodeHeader(GryphMessage message)
    {
        using var encoder = new FrameEncoder();
        return encoder.EncodeHeader(message).ToArray();
    }

    /// <summary>
    /// Builds the message from a frame's header and body; throws <see cref="JsonException"/> or
    /// <see cref="FormatException"/> on bad input. The message keeps <paramref name="body"/> as its content
    /// (see <see cref="GryphMessage"/>): the caller hands it over and must not reuse that memory. When the body
    /// lies in an array rented from <see cref="ArrayPool{T}.Shared"/>, pass it as <paramref name="rented"/>:
    /// <see cref="GryphMessage.Release"/> then returns it.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public static GryphMessage Decode(ReadOnlySpan<byte> header, ReadOnlyMemory<byte> body, byte[]? rented = null)
    {
        string? id = null, from = null, to = null, replyTo = null;
        DateTime? time = null;
        Dictionary<string, string>? meta = null;
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException("the header is not a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Names are compared as UTF-8 in place: no string per property name.
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = reader.GetString();
            }
            else if (reader.ValueTextEquals("from"u8))
            {
                reader.Read();
                from = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("to"u8))
            {
                reader.Read();
                to = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("replyTo"u8))
            {
                reader.Read();
                replyTo = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("time"u8))
            {
                reader.Read();
                time = ParseTime(ref reader);
            }
            else if (reader.ValueTextEquals("meta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                meta = new Dictionary<string, string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = reader.GetString()!;
                    reader.Read();
                    meta[key] = reader.TokenType == JsonTokenType.String ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan);
                }
            }
            else
            {
                reader.Read();
                reader.Skip(); // fields from a later version are ignored
            }
        }

        if (string.IsNullOrEmpty(id))
        {
            throw new FormatException("the header has no id");
        }

        if (!Utf8.IsValid(body.Span))
        {
            throw new FormatException("the content is not valid UTF-8");
        }

        return new GryphMessage(id, time ?? DateTime.UtcNow, body, rented)
        {
            From = from,
            To = to,
            ReplyTo = replyTo,
            Metadata = meta ?? GryphMessage.EmptyMetadata,
        };
    }

    /// <summary>
    /// The "time" field: Gryphgen's own round-trip form ("2026-01-02T03:04:05.0000000Z") is parsed straight
    /// from the UTF-8 bytes; any other form a peer writes goes through <see cref="DateTime.Parse(string, IFormatProvider, DateTimeStyles)"/> as before.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    private static DateTime ParseTime(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence
            && reader.ValueSpan is { Length: 28 } raw && raw[^1] == (byte)'Z'
            && Utf8Parser.TryParse(raw, out DateTime parsed, out var consumed, 'O') && consumed == raw.Length
            && parsed.Kind == DateTimeKind.Utc)
        {
            return parsed;
        }

        return DateTime.Parse(reader.GetString() ?? string.Empty, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    [MethodImpl(HotPath.Options)]
    private static void WriteDigits(Span<byte> destination, long value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        if (value != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "too large for the frame prefix");
        }
    }

    [MethodImpl(HotPath.Options)]
    private static bool TryReadDigits(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }
}

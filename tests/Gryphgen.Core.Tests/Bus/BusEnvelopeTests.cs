using System.Text;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Messaging;
using NATS.Client.Core;
using Xunit;

namespace Gryphgen.Core.Tests.Bus;

public sealed class BusEnvelopeTests
{
    [Fact]
    public void Envelope_RoundTripsThroughHeadersAndPayload()
    {
        var sent = new GryphMessage
        {
            Id = GryphMessage.NewId(),
            From = "alice",
            To = "bob",
            ReplyTo = GryphMessage.NewId(),
            Timestamp = new DateTime(2026, 11, 27, 8, 0, 0, 123, DateTimeKind.Utc),
            Content = "line one\nline two\r\n\u00e9\u4e2d\U0001F600",
            Metadata = new Dictionary<string, string> { ["round"] = "3", ["multi\nline"] = "v\r\nw", ["empty"] = string.Empty },
        };
        var headers = BusEnvelope.ToHeaders(sent);
        var payload = Encoding.UTF8.GetBytes(sent.Content);

        var received = BusEnvelope.FromDelivery(headers, payload, "bob");

        Assert.Equal(sent.Id, received.Id);
        Assert.Equal(sent.From, received.From);
        Assert.Equal(sent.To, received.To);
        Assert.Equal(sent.ReplyTo, received.ReplyTo);
        // The header carries the instant in UTC; the object shows it as local time (docs/design.md).
        Assert.Equal(sent.Timestamp.ToUniversalTime(), received.Timestamp.ToUniversalTime());
        Assert.Equal(DateTimeKind.Local, received.Timestamp.Kind);
        Assert.Equal(sent.Content, received.Content);
        Assert.Equal(sent.Metadata, received.Metadata);
        Assert.Equal(payload.Length, received.Bytes);
        Assert.Equal("1", headers[BusEnvelope.VersionHeader]);
        Assert.All(headers, h => Assert.DoesNotContain('\n', h.Value.ToString()));
    }

    [Fact]
    public void Payload_IsTheContentUnchanged() =>
        Assert.Equal("plain text"u8.ToArray(), Encoding.UTF8.GetBytes(BusEnvelope.FromDelivery(null, "plain text"u8.ToArray(), "bob").Content));

    [Fact]
    public void Delivery_KeepsThePayloadAsTheContentBytes()
    {
        var payload = Encoding.UTF8.GetBytes("日本語 text");
        Assert.True(BusEnvelope.FromDelivery(null, payload, "bob").TryGetUtf8Content(out var utf8));
        Assert.True(utf8.Span.SequenceEqual(payload));
    }

    [Fact]
    public void MessageFromAnyNatsClient_GetsAFreshIdAndTheEndpoint()
    {
        var message = BusEnvelope.FromDelivery(null, "hi"u8.ToArray(), "bob");
        Assert.Matches("^[0-9a-f]{32}$", message.Id);
        Assert.Equal("bob", message.To);
        Assert.Null(message.From);
        Assert.Empty(message.Metadata);
    }

    [Fact]
    public void OptionalFields_AreLeftOut()
    {
        var headers = BusEnvelope.ToHeaders(new GryphMessage { Id = "x1", Timestamp = DateTime.UtcNow, Content = string.Empty });
        Assert.False(headers.ContainsKey(BusEnvelope.FromHeader));
        Assert.False(headers.ContainsKey(BusEnvelope.ReplyToHeader));
        Assert.False(headers.ContainsKey(BusEnvelope.MetaHeader));
    }

    [Fact]
    public void InvalidUtf8Payload_IsAFormatError() =>
        Assert.Throws<FormatException>(() => BusEnvelope.FromDelivery(null, new byte[] { 0xC3, 0x28 }, "bob"));

    [Fact]
    public void BadMetaHeader_IsAFormatError()
    {
        var headers = new NatsHeaders { [BusEnvelope.IdHeader] = "x", [BusEnvelope.MetaHeader] = "[1,2]" };
        Assert.Throws<FormatException>(() => BusEnvelope.FromDelivery(headers, "a"u8.ToArray(), "bob"));
    }

    [Fact]
    public void LineBreakInAnEnvelopeField_IsRefused()
    {
        var error = Assert.Throws<GryphgenException>(() => BusEnvelope.ToHeaders(
            new GryphMessage { Id = "x", From = "evil\r\nGryph-Id: forged", Timestamp = DateTime.UtcNow, Content = "c" }));
        Assert.Equal("GryphMessageMalformed", error.ErrorId);
    }
}

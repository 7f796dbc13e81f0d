using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Xunit;

namespace Gryphgen.Core.Tests.Bus;

public sealed class BusNamesTests
{
    [Theory]
    [InlineData("bob", "gryph.lab.bob", "GRYPH_lab_bob")]
    [InlineData("model_1", "gryph.lab.model_1", "GRYPH_lab_model__1")]
    [InlineData("llama.8b", "gryph.lab.llama.8b", "GRYPH_lab_llama_d8b")]
    [InlineData("a-b", "gryph.lab.a-b", "GRYPH_lab_a-b")]
    public void Endpoint_MapsToSubjectAndStream(string endpoint, string subject, string stream)
    {
        Assert.Equal(subject, BusNames.Subject("lab", endpoint));
        Assert.Equal(stream, BusNames.Stream("lab", endpoint));
        Assert.Equal(endpoint, BusNames.EndpointOfStream("lab", stream));
    }

    [Fact]
    public void DistinctEndpoints_NeverShareAStream()
    {
        var names = new[] { "a.b", "a_b", "a__b", "a_db", "a.db", "a_d.b", "ab" };
        var streams = names.Select(n => BusNames.Stream("ns", n)).ToArray();
        Assert.Equal(names.Length, streams.Distinct(StringComparer.Ordinal).Count());
        Assert.All(streams, s => Assert.DoesNotContain('.', s));
        Assert.Equal(names, streams.Select(s => BusNames.EndpointOfStream("ns", s)));
    }

    [Fact]
    public void StreamsOfOtherNamespaces_AreNotEndpoints()
    {
        Assert.Null(BusNames.EndpointOfStream("lab", BusNames.Stream("prod", "bob")));
        Assert.Null(BusNames.EndpointOfStream("lab", "ORDERS"));
        Assert.Null(BusNames.EndpointOfStream("lab", "GRYPH_lab_bad_x"));
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("a_b")]
    [InlineData("")]
    [InlineData("-lab")]
    [InlineData("lab*")]
    public void BadNamespace_IsRefused(string ns)
    {
        var error = Assert.Throws<GryphgenException>(() => BusNames.ValidateNamespace(ns));
        Assert.Equal("GryphBusNamespaceInvalid", error.ErrorId);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a>")]
    [InlineData("a*")]
    [InlineData("a b")]
    public void BadEndpoint_IsRefused(string endpoint)
    {
        var error = Assert.Throws<GryphgenException>(() => BusNames.Subject("lab", endpoint));
        Assert.Equal("GryphEndpointNameInvalid", error.ErrorId);
    }

    [Theory]
    [InlineData("nats://alice:s3cret@host:4222", "nats://***@host:4222")]
    [InlineData("tls://tok@host:4222", "tls://***@host:4222")]
    [InlineData("nats://host:4222", "nats://host:4222")]
    [InlineData("host:4222", "host:4222")]
    public void Urls_AreShownWithoutCredentials(string url, string shown) =>
        Assert.Equal(shown, GryphBus.RedactUrl(url));
}

using System.Diagnostics;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.Tests;
using Xunit;

namespace Gryphgen.Core.Tests.Bus;

/// <summary>Connecting: each way it fails has its own stable id and comes within the connect timeout; secrets never show.</summary>
public sealed class BusConnectTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private static GryphgenException Refused(BusConnectionOptions options)
    {
        var started = Stopwatch.StartNew();
        var error = Assert.Throws<GryphgenException>(() => GryphBus.Connect(options));
        Assert.True(started.Elapsed < options.ConnectTimeout + TimeSpan.FromSeconds(1), $"took {started.Elapsed}");
        return error;
    }

    [SkippableFact]
    public void WrongPassword_IsAuthenticationFailed()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { User = "gryph", Password = "right-horse" });
        var error = Refused(new BusConnectionOptions { Urls = [server.Url], UserName = "gryph", Password = "wrong-battery", ConnectTimeout = Timeout });
        Assert.Equal("GryphBusAuthenticationFailed", error.ErrorId);
        Assert.Equal(GryphgenErrorKind.AuthenticationFailed, error.Kind);
        Assert.DoesNotContain("wrong-battery", error.Message, StringComparison.Ordinal);

        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [server.Url], UserName = "gryph", Password = "right-horse", ConnectTimeout = Timeout });
        Assert.Equal(GryphBusState.Open, bus.State);
        Assert.Equal("UserPassword", bus.Authentication);
    }

    [SkippableFact]
    public void WrongToken_IsAuthenticationFailed_RightTokenConnects()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { Token = "s3cr3t-token" });
        Assert.Equal("GryphBusAuthenticationFailed", Refused(new BusConnectionOptions { Urls = [server.Url], Token = "nope", ConnectTimeout = Timeout }).ErrorId);
        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [server.Url], Token = "s3cr3t-token", ConnectTimeout = Timeout });
        Assert.Equal("Token", bus.Authentication);
    }

    [Fact]
    public void NothingListening_IsUnreachable_WithinTheTimeout()
    {
        var port = FreePort();
        var error = Refused(new BusConnectionOptions { Urls = [$"nats://127.0.0.1:{port}"], ConnectTimeout = Timeout });
        Assert.Equal("GryphBusUnreachable", error.ErrorId);
        Assert.Equal(GryphgenErrorKind.ConnectionFailed, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerThatNeverAnswers_IsUnreachable_WithinTheTimeout()
    {
        // A listener that accepts and says nothing: the client waits for INFO until the connect timeout.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var error = Refused(new BusConnectionOptions { Urls = [$"nats://127.0.0.1:{port}"], ConnectTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal("GryphBusUnreachable", error.ErrorId);
    }

    [SkippableFact]
    public void TlsMismatches_AreTlsFailed_AndTheRightCaConnects()
    {
        using var certificates = NatsTestCertificates.Create();
        using var tlsServer = NatsTestServer.Start(new NatsTestServerOptions { Tls = certificates });
        using var plainServer = NatsTestServer.Start();

        var untrusted = Refused(new BusConnectionOptions { Urls = [tlsServer.Url], ConnectTimeout = Timeout });
        Assert.Equal("GryphBusTlsFailed", untrusted.ErrorId);
        Assert.Equal(GryphgenErrorKind.SecurityError, untrusted.Kind);
        Assert.Equal("GryphBusTlsFailed", Refused(new BusConnectionOptions { Urls = [tlsServer.Url], TlsMode = BusTlsMode.Disable, ConnectTimeout = Timeout }).ErrorId);
        Assert.Equal("GryphBusTlsFailed", Refused(new BusConnectionOptions { Urls = [plainServer.Url], TlsMode = BusTlsMode.Require, ConnectTimeout = Timeout }).ErrorId);

        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [tlsServer.Url], CaFile = certificates.CaPath, ConnectTimeout = Timeout });
        Assert.True(bus.TlsActive);
        Assert.Equal(GryphBusState.Open, bus.State);
    }

    [SkippableFact]
    public void SecretsAreNeverShown_NorLogged()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { User = "gryph", Password = "pa55-word" });
        var lines = new List<string>();
        using var log = new GryphLog((_, text) => lines.Add(text), null);
        var url = $"nats://gryph:pa55-word@127.0.0.1:{server.Port}";
        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [url], UserName = "gryph", Password = "pa55-word", ConnectTimeout = Timeout }, log);

        var shown = string.Join("\n", lines.Append(bus.ToString()).Concat(bus.Servers)
            .Concat(typeof(GryphBus).GetProperties().Where(p => p.GetIndexParameters().Length == 0).Select(p => Convert.ToString(p.GetValue(bus), System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty)));
        Assert.DoesNotContain("pa55-word", shown, StringComparison.Ordinal);
        Assert.Contains("nats://***@127.0.0.1", shown, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void PublishTheServerRefuses_IsPermissionDenied_NotATimeout()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions
        {
            User = "gryph",
            Password = "pw",
            Permissions = "{ publish: { deny: [\"gryph.*.secret\"] } }",
        });
        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [server.Url], UserName = "gryph", Password = "pw", Namespace = "lab", ConnectTimeout = Timeout });
        bus.Transport.CreateEndpoint("secret");
        using var sender = bus.Transport.OpenSender("secret", Deadline.After(TimeSpan.FromSeconds(10)), GryphLog.None, CancellationToken.None);
        var started = Stopwatch.StartNew();
        var error = Assert.Throws<GryphgenException>(() => sender.Send(
            new GryphMessage { Id = GryphMessage.NewId(), Timestamp = DateTime.UtcNow, Content = "x" }, Deadline.After(TimeSpan.FromSeconds(10))));
        Assert.Equal("GryphBusPermissionDenied", error.ErrorId);
        Assert.Equal(GryphgenErrorKind.PermissionDenied, error.Kind);
        Assert.Contains("gryph.lab.secret", error.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
    }

    [SkippableFact]
    public void NKeyFile_Authenticates_AndAnotherKeyIsRefused()
    {
        using var user = NATS.NKeys.KeyPair.CreatePair(NATS.NKeys.PrefixByte.User);
        using var stranger = NATS.NKeys.KeyPair.CreatePair(NATS.NKeys.PrefixByte.User);
        using var server = NatsTestServer.Start(new NatsTestServerOptions { NKey = user.GetPublicKey() });
        var seedFile = Path.Combine(server.Directory, "user.nk");
        var strangerFile = Path.Combine(server.Directory, "stranger.nk");
        // The layout `nk -gen user -pubout` writes: the seed, then the public key.
        File.WriteAllText(seedFile, user.GetSeed() + "\n" + user.GetPublicKey() + "\n");
        File.WriteAllText(strangerFile, stranger.GetSeed() + "\n" + stranger.GetPublicKey() + "\n");

        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [server.Url], NKeyFile = seedFile, ConnectTimeout = Timeout });
        Assert.Equal("NKey", bus.Authentication);
        Assert.Equal("GryphBusAuthenticationFailed", Refused(new BusConnectionOptions { Urls = [server.Url], NKeyFile = strangerFile, ConnectTimeout = Timeout }).ErrorId);
    }

    [SkippableFact]
    public void UnreadableCredentialFile_SaysWhichFile()
    {
        using var server = NatsTestServer.Start();
        var broken = Path.Combine(server.Directory, "broken.nk");
        File.WriteAllText(broken, "not a key\n");
        var error = Refused(new BusConnectionOptions { Urls = [server.Url], NKeyFile = broken, ConnectTimeout = Timeout });
        Assert.Equal("GryphBusCredentialFileInvalid", error.ErrorId);
        Assert.Contains(broken, error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ConnectedServer_IsTheUrlGiven_WithoutCredentials()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { User = "gryph", Password = "pw" });
        using var bus = GryphBus.Connect(new BusConnectionOptions { Urls = [$"nats://gryph:pw@127.0.0.1:{server.Port}"], ConnectTimeout = Timeout });
        Assert.Equal($"nats://***@127.0.0.1:{server.Port}", bus.ConnectedServer);
        Assert.Equal("UrlCredentials", bus.Authentication);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;
using Xunit.Abstractions;

namespace Gryphgen.Core.Tests.Messaging;

/// <summary>
/// Proves each mode of the nats-server harness (tests/Shared/NatsTestServer.cs) against the NATS.Net client the
/// transport uses: plain, JetStream with a restart, user/password, token, TLS and its mismatches, a 64 MiB
/// max_payload, and a 3-node cluster with an R3 stream that survives a killed node.
/// </summary>
public sealed class NatsTestServerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [SkippableFact]
    public async Task Plain_PublishSubscribe_RoundTripsOnLoopback()
    {
        using var server = NatsTestServer.Start();
        await using var connection = new NatsConnection(new NatsOpts { Url = server.Url });
        await connection.ConnectAsync();

        await using var subscription = await connection.SubscribeCoreAsync<string>("gryph.plain");
        await connection.PublishAsync("gryph.plain", "hello");
        using var timeout = new CancellationTokenSource(Wait);
        var message = await subscription.Msgs.ReadAsync(timeout.Token);

        Assert.Equal("hello", message.Data);
        Assert.StartsWith("nats://127.0.0.1:", server.Url, StringComparison.Ordinal);
        Assert.Equal(server.Port, connection.ServerInfo!.Port);
        Assert.True(connection.ServerInfo.JetStreamAvailable);
    }

    [SkippableFact]
    public async Task JetStream_StreamSurvivesKillAndRestart_OnTheSameStore()
    {
        using var server = NatsTestServer.Start();
        var port = server.Port;
        await using (var connection = new NatsConnection(new NatsOpts { Url = server.Url }))
        {
            var js = connection.CreateJetStreamContext();
            await js.CreateStreamAsync(new StreamConfig("GRYPH", ["gryph.js.>"]));
            var ack = await js.PublishAsync("gryph.js.one", "stored");
            ack.EnsureSuccess();
            Assert.Equal(1ul, ack.Seq);
        }

        server.Kill();
        Assert.False(server.IsRunning);
        server.Restart();
        Assert.Equal(port, server.Port);

        await using var again = new NatsConnection(new NatsOpts { Url = server.Url });
        var context = again.CreateJetStreamContext();
        var consumer = await context.CreateOrUpdateConsumerAsync("GRYPH", new ConsumerConfig("reader"));
        using var timeout = new CancellationTokenSource(Wait);
        var message = await consumer.NextAsync<string>(cancellationToken: timeout.Token);

        Assert.NotNull(message);
        Assert.Equal("stored", message.Data);
        await message.AckAsync(cancellationToken: timeout.Token);
    }

    [SkippableFact]
    public async Task UserPassword_RightPasswordConnects_WrongPasswordIsRefused()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { User = "gryph", Password = "s3cret", JetStream = false });

        await using (var good = new NatsConnection(new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { Username = "gryph", Password = "s3cret" } }))
        {
            await good.ConnectAsync();
            Assert.Equal(NatsConnectionState.Open, good.ConnectionState);
        }

        await using var bad = new NatsConnection(new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { Username = "gryph", Password = "wrong" } });
        var error = await Refused(async () => await bad.ConnectAsync());
        Assert.Contains("Authorization Violation", Flatten(error), StringComparison.OrdinalIgnoreCase);

        await using var anonymous = new NatsConnection(new NatsOpts { Url = server.Url });
        await Refused(async () => await anonymous.ConnectAsync());
    }

    [SkippableFact]
    public async Task Token_RightTokenConnects_WrongTokenIsRefused()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { Token = "t0ken", JetStream = false });

        await using (var good = new NatsConnection(new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { Token = "t0ken" } }))
        {
            await good.ConnectAsync();
            Assert.Equal(NatsConnectionState.Open, good.ConnectionState);
        }

        await using var bad = new NatsConnection(new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { Token = "nope" } });
        var error = await Refused(async () => await bad.ConnectAsync());
        Assert.Contains("Authorization Violation", Flatten(error), StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public async Task Tls_TrustedTestCaConnects_PlainClientIsRefused()
    {
        using var certificates = NatsTestCertificates.Create();
        using var server = NatsTestServer.Start(new NatsTestServerOptions { Tls = certificates, JetStream = false });

        var tls = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = certificates.CaPath };
        await using (var good = new NatsConnection(new NatsOpts { Url = server.Url, TlsOpts = tls }))
        {
            await using var subscription = await good.SubscribeCoreAsync<string>("gryph.tls");
            await good.PublishAsync("gryph.tls", "private");
            using var timeout = new CancellationTokenSource(Wait);
            Assert.Equal("private", (await subscription.Msgs.ReadAsync(timeout.Token)).Data);
        }

        // Server requires TLS, client refuses it.
        await using var plain = new NatsConnection(new NatsOpts { Url = server.Url, TlsOpts = new NatsTlsOpts { Mode = TlsMode.Disable } });
        await Refused(async () => await plain.ConnectAsync());

        // TLS without trusting the test CA fails the certificate check.
        await using var untrusting = new NatsConnection(new NatsOpts { Url = server.Url, TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require } });
        await Refused(async () => await untrusting.ConnectAsync());
    }

    [SkippableFact]
    public async Task Tls_ClientRequiresTls_PlainServerIsRefused()
    {
        using var certificates = NatsTestCertificates.Create();
        using var server = NatsTestServer.Start(new NatsTestServerOptions { JetStream = false });

        await using var client = new NatsConnection(new NatsOpts
        {
            Url = server.Url,
            TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = certificates.CaPath },
        });
        await Refused(async () => await client.ConnectAsync());
    }

    [SkippableFact]
    public async Task MaxPayload_64MiB_IsAdvertisedAndCarriesA16MiBMessage()
    {
        using var server = NatsTestServer.Start(new NatsTestServerOptions { MaxPayload = NatsTestServerOptions.LargestMaxPayload, JetStream = false });
        await using var connection = new NatsConnection(new NatsOpts { Url = server.Url });
        await connection.ConnectAsync();
        Assert.Equal(64L * 1024 * 1024, connection.ServerInfo!.MaxPayload);

        // 16 MiB: over the 1 MiB default and the 8 MB the server warns about, and cheap enough for every run
        // (a 60 MiB message took 4 to 9 s on a loaded 2-core machine, most of this class's budget).
        var payload = new byte[16 * 1024 * 1024];
        payload[0] = 1;
        payload[^1] = 2;
        await using var subscription = await connection.SubscribeCoreAsync<byte[]>("gryph.big");
        await connection.PublishAsync("gryph.big", payload);
        using var timeout = new CancellationTokenSource(Wait);
        var message = await subscription.Msgs.ReadAsync(timeout.Token);

        Assert.Equal(payload.Length, message.Data!.Length);
        Assert.Equal(2, message.Data[^1]);
    }

    [SkippableFact]
    public async Task Cluster_R3Stream_KeepsPublishingWithANodeKilled_AndTheNodeRejoins()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var cluster = NatsTestCluster.Start();
        output.WriteLine($"cluster formed with meta leader {cluster.WaitForMetaLeader()} in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(3, cluster.Servers.Count);
        await using var connection = new NatsConnection(new NatsOpts { Url = cluster.Url });
        var js = connection.CreateJetStreamContext();
        var stream = await js.CreateStreamAsync(new StreamConfig("GRYPHR3", ["gryph.r3.>"]) { NumReplicas = 3 });
        Assert.Equal(3, stream.Info.Config.NumReplicas);
        (await js.PublishAsync("gryph.r3.a", "before")).EnsureSuccess();

        // Kill a follower, neither the stream's leader nor the meta leader (with 3 nodes one always is), and publish
        // through a survivor. Killing a leader works too, but nats-server 2.9 then takes 4 to 9 s to elect a new one
        // (5 to 7 s measured here), during which a JetStream publish gets "no responders"; NATS.Net retries that
        // only RetryAttempts times (2 by default), too few for an election, hence the patient options below.
        var metaLeader = cluster.WaitForMetaLeader();
        var streamLeader = stream.Info.Cluster?.Leader;
        var victim = cluster.Servers.First(s => s.ServerName != metaLeader && s.ServerName != streamLeader);
        var survivor = cluster.Servers.First(s => s != victim);
        output.WriteLine($"stream leader {streamLeader}, meta leader {metaLeader}, killing {victim.ServerName}, publishing through {survivor.ServerName}");
        await using var survivorConnection = new NatsConnection(new NatsOpts { Url = survivor.Url });
        await survivorConnection.ConnectAsync();
        js = survivorConnection.CreateJetStreamContext();
        victim.Kill();
        cluster.WaitForMetaLeader();

        using var timeout = new CancellationTokenSource(Wait);
        var patient = new NatsJSPubOpts { RetryAttempts = 40, RetryWaitBetweenAttempts = TimeSpan.FromMilliseconds(250) };
        var ack = await js.PublishAsync("gryph.r3.b", "during", opts: patient, cancellationToken: timeout.Token);
        ack.EnsureSuccess();
        Assert.Equal(2ul, ack.Seq);
        output.WriteLine($"{victim.ServerName} killed, publish acknowledged at {clock.ElapsedMilliseconds} ms");

        victim.Restart();
        cluster.WaitUntilFormed();
        output.WriteLine($"{victim.ServerName} rejoined at {clock.ElapsedMilliseconds} ms");
        Assert.True(cluster.Servers.All(s => s.IsRunning));
        (await js.PublishAsync("gryph.r3.c", "after", opts: patient, cancellationToken: timeout.Token)).EnsureSuccess();
    }

    [SkippableFact]
    public void Dispose_EndsTheProcessAndDeletesTheDirectory()
    {
        var server = NatsTestServer.Start();
        var pid = server.ProcessId!.Value;
        Assert.True(Directory.Exists(server.StoreDirectory));

        server.Dispose();

        Assert.False(Directory.Exists(server.Directory));
        Assert.False(Directory.Exists($"/proc/{pid}"), $"nats-server {pid} is still running after Dispose.");
    }

    // The client's refusal, logged so a reader sees what NATS.Net 3.3.2 says for each misconfiguration.
    private async Task<NatsException> Refused(Func<Task> connect)
    {
        var error = await Assert.ThrowsAnyAsync<NatsException>(connect);
        output.WriteLine($"{error.GetType().Name}: {Flatten(error)}");
        return error;
    }

    private static string Flatten(Exception error)
    {
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        return string.Join(" | ", messages);
    }
}

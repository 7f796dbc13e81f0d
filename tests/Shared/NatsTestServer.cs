// Real nats-server processes for the tests: xunit compiles this file into the test projects (tests/Shared),
// and tests/nats.ps1 compiles the same file with Add-Type for Pester. It therefore depends on nothing but the
// .NET base library, spells out its usings, and leaves skipping to NatsTestServer.Xunit.cs.
#nullable enable
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Gryphgen.Tests;

/// <summary>What a <see cref="NatsTestServer"/> is configured with beyond its ports and store.</summary>
public sealed class NatsTestServerOptions
{
    /// <summary>NATS' hard maximum for max_payload (64 MiB), which is also the project's message limit.</summary>
    public const long LargestMaxPayload = 64L * 1024 * 1024;

    /// <summary>User and password the server requires (both or neither); null for no user auth.</summary>
    public string? User { get; init; }

    public string? Password { get; init; }

    /// <summary>A NATS permissions block for <see cref="User"/>, e.g. <c>{ publish: { deny: ["gryph.*.secret"] } }</c>; null for all.</summary>
    public string? Permissions { get; init; }

    /// <summary>The public NKey (U...) of the only user the server admits; null for none.</summary>
    public string? NKey { get; init; }

    /// <summary>Token the server requires; null for none. Cannot be combined with <see cref="User"/>.</summary>
    public string? Token { get; init; }

    /// <summary>Certificate files the server presents; the server then requires TLS from every client.</summary>
    public NatsTestCertificates? Tls { get; init; }

    /// <summary>max_payload in bytes; null keeps the server's 1 MiB default. At most <see cref="LargestMaxPayload"/>.</summary>
    public long? MaxPayload { get; init; }

    /// <summary>Whether JetStream runs (with its own temporary store). On by default.</summary>
    public bool JetStream { get; init; } = true;
}

/// <summary>
/// One nats-server on 127.0.0.1 at free ports (client and HTTP monitor, plus a route port in a cluster), with its
/// own temporary directory for the generated config, the JetStream store and the log. <see cref="Start"/> returns
/// once the server logged "Server is ready" and its monitor answers /healthz; nothing waits on a fixed sleep.
/// <see cref="Kill"/> and <see cref="Restart"/> keep the ports and the store, so JetStream state survives a restart.
/// <see cref="Dispose"/> kills the process and deletes the directory; a test host that exits early kills every
/// server it still has through <see cref="AppDomain.ProcessExit"/>.
/// </summary>
public sealed partial class NatsTestServer : IDisposable
{
    private static readonly ConcurrentDictionary<NatsTestServer, bool> Live = new();
    private static readonly HttpClient Monitor = new() { Timeout = TimeSpan.FromSeconds(2) };
    private static int instances;

    private readonly object gate = new();
    private readonly ConcurrentQueue<string> log = new();
    private Process? process;
    private bool disposed;

    static NatsTestServer()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Live.Keys)
            {
                server.Dispose();
            }
        };
    }

    private NatsTestServer(string serverName, NatsTestServerOptions options, int port, int monitorPort, int clusterPort, string directory)
    {
        ServerName = serverName;
        Options = options;
        Port = port;
        MonitorPort = monitorPort;
        ClusterPort = clusterPort;
        Directory = directory;
    }

    /// <summary>How long <see cref="Start"/> and <see cref="Restart"/> wait for readiness before they fail.</summary>
    public static TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The nats-server binary: $NATS_SERVER, else nats-server on PATH or in /usr/sbin (Debian's place); null when absent.</summary>
    public static string? BinaryPath { get; } = FindBinary();

    public string ServerName { get; }

    public NatsTestServerOptions Options { get; }

    public int Port { get; }

    public int MonitorPort { get; }

    /// <summary>The route port of a cluster node; 0 for a lone server.</summary>
    public int ClusterPort { get; }

    /// <summary>The temporary directory with nats.conf and the JetStream store (store/).</summary>
    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "nats.conf");

    public string StoreDirectory => Path.Combine(Directory, "store");

    /// <summary>nats://127.0.0.1:port, also for a TLS server: the client asks for TLS through its TLS options.</summary>
    public string Url => $"nats://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public string MonitorUrl => $"http://127.0.0.1:{MonitorPort.ToString(CultureInfo.InvariantCulture)}";

    public int? ProcessId
    {
        get
        {
            lock (gate)
            {
                return process is { HasExited: false } ? process.Id : null;
            }
        }
    }

    public bool IsRunning => ProcessId is not null;

    /// <summary>Every line the server has logged so far, across restarts.</summary>
    public IReadOnlyList<string> Log => log.ToArray();

    /// <summary>Starts a lone server and waits until it is ready.</summary>
    public static NatsTestServer Start(NatsTestServerOptions? options = null)
    {
        // A free port can be taken by another process between FreePorts and the server's bind: try fresh ports then.
        for (var attempt = 1; ; attempt++)
        {
            var ports = FreePorts(2);
            var server = Create(options ?? new NatsTestServerOptions(), "gryph", ports[0], ports[1], 0, clusterName: null, routePorts: null);
            try
            {
                return StartOrDispose(server);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    internal static NatsTestServer StartOrDispose(NatsTestServer server)
    {
        try
        {
            server.Launch();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    internal static NatsTestServer Create(
        NatsTestServerOptions options, string prefix, int port, int monitorPort, int clusterPort, string? clusterName, IReadOnlyList<int>? routePorts)
    {
        _ = RequireBinary();
        Validate(options);
        var number = Interlocked.Increment(ref instances);
        var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Environment.ProcessId}-{number}");
        var directory = System.IO.Directory.CreateTempSubdirectory($"gryph-nats-{name}-").FullName;
        var server = new NatsTestServer(name, options, port, monitorPort, clusterPort, directory);
        File.WriteAllText(server.ConfigPath, server.BuildConfig(clusterName, routePorts));
        Live[server] = true;
        return server;
    }

    /// <summary>Sends SIGKILL and waits for the process to go; the ports, config and store stay for <see cref="Restart"/>.</summary>
    public void Kill()
    {
        lock (gate)
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }
    }

    /// <summary>Sends SIGTERM (a clean shutdown that flushes the store) and waits; SIGKILL after 10 s.</summary>
    public void Stop()
    {
        lock (gate)
        {
            if (process is not { HasExited: false })
            {
                return;
            }

            _ = SendSignal(process.Id, SigTerm);
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }
    }

    /// <summary>Stops the server if it runs, then starts it again on the same ports with the same store and waits until it is ready.</summary>
    public void Restart()
    {
        Stop();
        Launch();
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }

        Kill();
        lock (gate)
        {
            process?.Dispose();
            process = null;
        }

        _ = Live.TryRemove(this, out _);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A store file still being closed by the kernel; the temp folder is swept by the system.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>GETs a monitor endpoint (/varz, /jsz, /routez...) and parses it; null when the monitor does not answer 200.</summary>
    public JsonDocument? GetMonitor(string pathAndQuery)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, MonitorUrl + pathAndQuery);
            using var response = Monitor.Send(request);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }

            using var stream = response.Content.ReadAsStream();
            return JsonDocument.Parse(stream);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Whether /healthz answers ok: the server runs and, in a cluster, its JetStream is current with the meta leader.</summary>
    public bool IsHealthy()
    {
        using var health = GetMonitor("/healthz");
        return health is not null &&
            health.RootElement.TryGetProperty("status", out var status) &&
            status.GetString() == "ok";
    }

    /// <summary>The JetStream meta leader this server sees, or null (not clustered, not elected yet, or not running).</summary>
    public string? MetaLeader()
    {
        using var jsz = GetMonitor("/jsz");
        return jsz is not null &&
            jsz.RootElement.TryGetProperty("meta_cluster", out var meta) &&
            meta.TryGetProperty("leader", out var leader) &&
            leader.ValueKind == JsonValueKind.String &&
            leader.GetString() is { Length: > 0 } name
            ? name
            : null;
    }

    /// <summary>How many routes this server has open (/routez num_routes).</summary>
    public int RouteCount()
    {
        using var routez = GetMonitor("/routez");
        return routez is not null && routez.RootElement.TryGetProperty("num_routes", out var count) ? count.GetInt32() : 0;
    }

    /// <summary>Runs until <paramref name="condition"/> holds, polling every 25 ms; fails with the server log after <paramref name="timeout"/>.</summary>
    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.{diagnostics?.Invoke()}");
            }

            Thread.Sleep(25);
        }
    }

    public override string ToString() => $"{ServerName} {Url} (monitor {MonitorUrl})";

    internal string LogTail(int lines = 40) =>
        $"{Environment.NewLine}--- {ServerName} log ---{Environment.NewLine}" +
        string.Join(Environment.NewLine, log.Reverse().Take(lines).Reverse());

    private void Launch()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        // Set from the process's event threads, which may outlive this call: a TaskCompletionSource needs no disposal.
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startInfo = new ProcessStartInfo(RequireBinary())
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(ConfigPath);
        var started = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            log.Enqueue(e.Data);
            if (e.Data.Contains("Server is ready", StringComparison.Ordinal))
            {
                _ = ready.TrySetResult();
            }
        };
        started.ErrorDataReceived += onLine;
        started.OutputDataReceived += onLine;
        started.Exited += (_, _) => ready.TrySetResult();
        lock (gate)
        {
            process?.Dispose();
            _ = started.Start();
            process = started;
        }

        started.BeginErrorReadLine();
        started.BeginOutputReadLine();

        // "Server is ready" comes after every listener is open; an exit before it (a taken port, a bad config) fails at once.
        if (!ready.Task.Wait(ReadyTimeout) || started.HasExited)
        {
            var state = started.HasExited ? $"exited with code {started.ExitCode}" : "did not log 'Server is ready'";
            Kill();
            throw new InvalidOperationException($"nats-server {ServerName} on port {Port} {state}.{LogTail()}");
        }

        WaitUntil(() => ClusterPort != 0 || IsHealthy(), ReadyTimeout, $"{ServerName} /healthz", () => LogTail());
    }

    private string BuildConfig(string? clusterName, IReadOnlyList<int>? routePorts)
    {
        var c = CultureInfo.InvariantCulture;
        var config = new StringBuilder();
        config.AppendLine(c, $"server_name: {Quote(ServerName)}");
        config.AppendLine(c, $"listen: \"127.0.0.1:{Port}\"");
        config.AppendLine(c, $"http: \"127.0.0.1:{MonitorPort}\"");
        if (Options.MaxPayload is { } maxPayload)
        {
            config.AppendLine(c, $"max_payload: {maxPayload}");
        }

        if (Options.JetStream)
        {
            // Small limits: the defaults reserve 75% of memory and disk, which other tests on the machine may need.
            config.AppendLine(c, $"jetstream {{ store_dir: {Quote(StoreDirectory)}, max_memory_store: 256MB, max_file_store: 2GB }}");
        }

        if (Options.NKey is not null)
        {
            config.AppendLine(c, $"authorization {{ users: [ {{ nkey: {Quote(Options.NKey)} }} ] }}");
        }
        else if (Options.User is not null && Options.Permissions is not null)
        {
            config.AppendLine(c, $"authorization {{ users: [ {{ user: {Quote(Options.User)}, password: {Quote(Options.Password ?? string.Empty)}, permissions: {Options.Permissions} }} ] }}");
        }
        else if (Options.User is not null)
        {
            config.AppendLine(c, $"authorization {{ user: {Quote(Options.User)}, password: {Quote(Options.Password ?? string.Empty)} }}");
        }
        else if (Options.Token is not null)
        {
            config.AppendLine(c, $"authorization {{ token: {Quote(Options.Token)} }}");
        }

        if (Options.Tls is { } tls)
        {
            config.AppendLine(c, $"tls {{ cert_file: {Quote(tls.ServerCertificatePath)}, key_file: {Quote(tls.ServerKeyPath)}, timeout: 5 }}");
        }

        if (clusterName is not null && routePorts is not null)
        {
            var routes = string.Join(", ", routePorts.Select(p => Quote($"nats-route://127.0.0.1:{p.ToString(c)}")));
            config.AppendLine(c, $"cluster {{ name: {Quote(clusterName)}, listen: \"127.0.0.1:{ClusterPort}\", routes: [{routes}] }}");
        }

        return config.ToString();
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static void Validate(NatsTestServerOptions options)
    {
        if (options.User is not null && options.Token is not null)
        {
            throw new ArgumentException("A NATS test server takes user/password or a token, not both.", nameof(options));
        }

        if (options.MaxPayload is < 1 or > NatsTestServerOptions.LargestMaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxPayload, "max_payload must be 1 byte to 64 MiB (NATS' hard maximum).");
        }
    }

    /// <summary>Reserves <paramref name="count"/> distinct free loopback ports (held together, then released for the server).</summary>
    internal static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
                listener.Dispose();
            }
        }
    }

    private static string RequireBinary()
    {
        if (BinaryPath is not null)
        {
            return BinaryPath;
        }

        var message = "nats-server is not installed (apt-get install nats-server, or set NATS_SERVER to its path).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new FileNotFoundException("CI=true but " + message + " .ci/run installs it.");
        }

        OnMissingBinary(message + " Skipping.");
        throw new FileNotFoundException(message);
    }

    /// <summary>Skips the calling test (xunit, in NatsTestServer.Xunit.cs); without that part the caller gets the FileNotFoundException.</summary>
    static partial void OnMissingBinary(string message);

    private static string? FindBinary()
    {
        var configured = Environment.GetEnvironmentVariable("NATS_SERVER");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        var folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Append("/usr/local/sbin");
        return folders.Select(f => Path.Combine(f, "nats-server")).FirstOrDefault(File.Exists);
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

/// <summary>
/// A cluster of nats-servers (3 by default) with routes on loopback ports and JetStream on each, so streams with
/// up to that many replicas work. <see cref="Start"/> returns once every node has its routes, agrees on one
/// JetStream meta leader and answers /healthz. Kill or restart a node through <see cref="Servers"/>, then
/// call <see cref="WaitUntilFormed"/> (or <see cref="WaitForMetaLeader"/> while a node stays down).
/// </summary>
public sealed class NatsTestCluster : IDisposable
{
    private NatsTestCluster(string name, IReadOnlyList<NatsTestServer> servers)
    {
        Name = name;
        Servers = servers;
    }

    public string Name { get; }

    public IReadOnlyList<NatsTestServer> Servers { get; }

    /// <summary>Every node's URL, comma-separated, as NatsOpts.Url takes a server list.</summary>
    public string Url => string.Join(",", Servers.Select(s => s.Url));

    public static NatsTestCluster Start(int size = 3, NatsTestServerOptions? options = null)
    {
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "A cluster has at least one node.");
        }

        options ??= new NatsTestServerOptions();
        var ports = NatsTestServer.FreePorts(3 * size);
        var routePorts = Enumerable.Range(0, size).Select(i => ports[(3 * i) + 2]).ToArray();
        var name = "gryph-" + Guid.NewGuid().ToString("N")[..12];
        var servers = new List<NatsTestServer>();
        try
        {
            for (var i = 0; i < size; i++)
            {
                servers.Add(NatsTestServer.Create(options, "node" + (i + 1).ToString(CultureInfo.InvariantCulture), ports[3 * i], ports[(3 * i) + 1], routePorts[i], name, routePorts));
            }

            // The nodes start one after another; each logs "Server is ready" before its routes are up.
            foreach (var server in servers)
            {
                server.Restart();
            }

            var cluster = new NatsTestCluster(name, servers);
            cluster.WaitUntilFormed();
            return cluster;
        }
        catch
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }

            throw;
        }
    }

    /// <summary>Waits until every running node routes to every other running node, all see one meta leader, and /healthz is ok on each.</summary>
    public void WaitUntilFormed(TimeSpan? timeout = null)
    {
        var running = Servers.Where(s => s.IsRunning).ToArray();
        NatsTestServer.WaitUntil(
            () => running.All(s => s.RouteCount() >= running.Length - 1),
            timeout ?? NatsTestServer.ReadyTimeout,
            $"the routes of cluster {Name}",
            Diagnostics);
        WaitForMetaLeader(timeout);
        NatsTestServer.WaitUntil(() => running.All(s => s.IsHealthy()), timeout ?? NatsTestServer.ReadyTimeout, $"/healthz on every node of {Name}", Diagnostics);
    }

    /// <summary>Waits until every running node sees the same JetStream meta leader, itself a running node; returns its server name.</summary>
    public string WaitForMetaLeader(TimeSpan? timeout = null)
    {
        string? leader = null;
        NatsTestServer.WaitUntil(
            () =>
            {
                var running = Servers.Where(s => s.IsRunning).ToArray();
                var seen = running.Select(s => s.MetaLeader()).Distinct().ToArray();
                leader = seen.Length == 1 && seen[0] is { } name && running.Any(s => s.ServerName == name) ? name : null;
                return leader is not null;
            },
            timeout ?? NatsTestServer.ReadyTimeout,
            $"a JetStream meta leader in cluster {Name}",
            Diagnostics);
        return leader!;
    }

    public void Dispose()
    {
        foreach (var server in Servers)
        {
            server.Dispose();
        }
    }

    private string Diagnostics() => string.Concat(Servers.Select(s => s.LogTail(15)));
}

/// <summary>
/// A throwaway CA and a server certificate it signs (for 127.0.0.1 and localhost), written as PEM files into a
/// temporary directory that <see cref="Dispose"/> deletes. Made with .NET's CertificateRequest; no openssl needed.
/// </summary>
public sealed class NatsTestCertificates : IDisposable
{
    private NatsTestCertificates(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The CA certificate a client trusts (NatsTlsOpts.CaFile).</summary>
    public string CaPath => Path.Combine(Directory, "ca.pem");

    public string ServerCertificatePath => Path.Combine(Directory, "server-cert.pem");

    public string ServerKeyPath => Path.Combine(Directory, "server-key.pem");

    public static NatsTestCertificates Create()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("gryph-nats-tls-").FullName;
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Gryphgen test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now, now.AddDays(2));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var server = serverRequest.Create(ca, now, now.AddDays(1), serial);

        File.WriteAllText(Path.Combine(directory, "ca.pem"), ca.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(directory, "server-cert.pem"), server.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(directory, "server-key.pem"), serverKey.ExportPkcs8PrivateKeyPem() + "\n");
        return new NatsTestCertificates(directory);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using Gryphgen.Core.Messaging;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Gryphgen.Core.Bus;

public enum GryphBusState
{
    Open,
    Connecting,
    Reconnecting,
    Closed,
}

/// <summary>
/// One connection to a NATS bus (one server or a cluster), shared by every cmdlet, agent and bridge of a session.
/// It shows where it is connected and how it authenticated, never with what: no property holds a secret.
/// </summary>
public sealed class GryphBus : IDisposable
{
    private readonly NatsConnection _connection;
    private readonly IReadOnlyList<string> _urls;
    private ServerErrorBox? _lastServerErrorBox;
    private CancellationTokenSource _serverErrorSignal = new();
    private bool _disposed;

    private GryphBus(NatsConnection connection, BusConnectionOptions options)
    {
        _connection = connection;
        _urls = options.Urls;
        connection.ServerError += (_, args) =>
        {
            // The server reports a refused publish (a permissions violation) only as an asynchronous -ERR.
            Volatile.Write(ref _lastServerErrorBox, new ServerErrorBox(args.Error, System.Diagnostics.Stopwatch.GetTimestamp()));
            var signalled = Interlocked.Exchange(ref _serverErrorSignal, new CancellationTokenSource());
            signalled.Cancel(); // wakes a publish waiting for a confirmation that a refusal means will never come
            signalled.Dispose();
            return ValueTask.CompletedTask;
        };
        JetStream = new NatsJSContext(connection);
        Namespace = options.Namespace;
        Servers = TextList.Of(options.Urls.Select(RedactUrl).ToArray());
        Authentication = options.AuthenticationKind == "None" && options.Urls.Any(u => RedactUrl(u) != u) ? "UrlCredentials" : options.AuthenticationKind;
        TlsMode = options.TlsMode;
        Replicas = options.Replicas;
        ConnectTimeout = options.ConnectTimeout;
        ConnectedAt = DateTime.Now;
        Transport = new BusTransport(this);
    }

    /// <summary>The server URLs as given, with any user or password in them replaced by ***.</summary>
    public IReadOnlyList<string> Servers { get; }

    public string Namespace { get; }

    public string Authentication { get; }

    public BusTlsMode TlsMode { get; }

    public int Replicas { get; }

    public TimeSpan ConnectTimeout { get; }

    public DateTime ConnectedAt { get; }

    public GryphBusState State => _disposed ? GryphBusState.Closed : _connection.ConnectionState switch
    {
        NatsConnectionState.Open => GryphBusState.Open,
        NatsConnectionState.Connecting => GryphBusState.Connecting,
        NatsConnectionState.Reconnecting => GryphBusState.Reconnecting,
        _ => GryphBusState.Closed,
    };

    /// <summary>
    /// The server this connection talks to now: the URL given for it (credentials hidden) where one matches, else
    /// the host and port the server announces (which may be its listen address, 0.0.0.0).
    /// </summary>
    public string? ConnectedServer
    {
        get
        {
            if (_connection.ServerInfo is not { } info)
            {
                return null;
            }

            var port = ":" + info.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var given = _urls.Where(u => u.TrimEnd('/').EndsWith(port, StringComparison.Ordinal)).ToArray();
            return given.Length == 1 ? RedactUrl(given[0]) : $"{info.Host}{port}";
        }
    }

    public string? ServerName => _connection.ServerInfo?.Name;

    public string? ServerVersion => _connection.ServerInfo?.Version;

    /// <summary>The largest message (headers and content) the server takes, in bytes.</summary>
    public long MaxPayload => _connection.ServerInfo?.MaxPayload ?? 0;

    public bool JetStreamEnabled => _connection.ServerInfo?.JetStreamAvailable ?? false;

    public bool TlsActive => _connection.ServerInfo is { } info && (info.TlsRequired || info.TlsAvailable) && TlsMode != BusTlsMode.Disable;

    /// <summary>Endpoints on this connection; internal, so that ConvertTo-Json and Format-List show the connection, not its machinery.</summary>
    internal BusTransport Transport { get; }

    internal NatsConnection Connection => _disposed ? throw NotConnected() : _connection;

    internal NatsJSContext JetStream { get; }

    /// <summary>Connects, failing within <see cref="BusConnectionOptions.ConnectTimeout"/> with an error that says whether the server was unreachable, refused the credentials or failed TLS.</summary>
    public static GryphBus Connect(BusConnectionOptions options, GryphLog? log = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        BusNames.ValidateNamespace(options.Namespace);
        if (options.Urls.Count == 0)
        {
            throw new GryphgenException("GryphBusUrlMissing", GryphgenErrorKind.InvalidArgument, "Give at least one server URL, e.g. nats://127.0.0.1:4222.");
        }

        foreach (var url in options.Urls)
        {
            ValidateUrl(url);
        }

        var servers = string.Join(",", options.Urls.Select(RedactUrl));
        log?.Write(GryphLogLevel.Info, $"Connecting to the bus at {servers} (namespace {options.Namespace}, authentication {options.AuthenticationKind}, TLS {options.TlsMode})");
        var connection = new NatsConnection(NatsOpts.Default with
        {
            Url = string.Join(",", options.Urls),
            Name = options.ClientName,
            AuthOpts = AuthOptions(options),
            TlsOpts = TlsOptions(options),
            ConnectTimeout = options.ConnectTimeout,
            RequestTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(10),
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            RetryOnInitialConnect = false,
            PublishTimeoutOnDisconnected = true,
        });
        try
        {
            // The client's own timeout applies per server; this bounds the whole attempt, and Ctrl+C ends it.
            BusAwait.Complete(connection.ConnectAsync().AsTask().WaitAsync(options.ConnectTimeout + TimeSpan.FromMilliseconds(250), token));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
        {
            _ = connection.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(1), CancellationToken.None);
            throw BusErrors.FromConnect(ex, servers, options.ConnectTimeout, refused: options.Urls.All(IsRefused));
        }
        catch
        {
            _ = connection.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(1), CancellationToken.None);
            throw;
        }

        var bus = new GryphBus(connection, options);
        log?.Write(GryphLogLevel.Info, $"Connected to the bus: server {bus.ServerName} {bus.ServerVersion} at {bus.ConnectedServer}, JetStream {(bus.JetStreamEnabled ? "on" : "off")}");
        return bus;
    }

    /// <summary>
    /// Refuses what the client cannot connect to before it tries: another scheme (an http:// monitoring URL is a
    /// common slip), a host or port that does not parse. A URL without a scheme means nats://, as for the client.
    /// </summary>
    private static void ValidateUrl(string url)
    {
        var shown = RedactUrl(url);
        var withScheme = url.Contains("://", StringComparison.Ordinal) ? url : "nats://" + url;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new GryphgenException("GryphBusUrlInvalid", GryphgenErrorKind.InvalidArgument,
                $"'{shown}' is not a bus server URL. Give nats://host:port, e.g. nats://127.0.0.1:4222.", shown);
        }

        if (uri.Scheme is not ("nats" or "tls" or "ws" or "wss"))
        {
            var hint = uri.Scheme is "http" or "https"
                ? " An http:// URL is a NATS server's monitoring page; clients connect to its client port (4222 by default) with nats://."
                : string.Empty;
            throw new GryphgenException("GryphBusUrlInvalid", GryphgenErrorKind.InvalidArgument,
                $"'{shown}' is not a bus server URL: the scheme must be nats://, tls://, ws:// or wss://, not {uri.Scheme}://.{hint}", shown);
        }
    }

    /// <summary>
    /// Whether a TCP connection to the URL's host and port is refused (nothing listens there). The client reports
    /// only that it could not connect, so a failed connect looks once more, briefly, to say which it was.
    /// </summary>
    private static bool IsRefused(string url)
    {
        var withScheme = url.Contains("://", StringComparison.Ordinal) ? url : "nats://" + url;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri))
        {
            return false;
        }

        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            _ = client.ConnectAsync(uri.Host, uri.Port > 0 ? uri.Port : 4222).Wait(TimeSpan.FromMilliseconds(500));
            return false; // something listens (or the look timed out): not a refusal
        }
        catch (AggregateException ex) when (ex.InnerException is System.Net.Sockets.SocketException socket)
        {
            return socket.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused;
        }
    }

    /// <summary>An error the server reported (an -ERR such as a permissions violation) since <paramref name="sinceTimestamp"/>, if any.</summary>
    internal string? ServerErrorSince(long sinceTimestamp) =>
        Volatile.Read(ref _lastServerErrorBox) is { } box && box.At >= sinceTimestamp ? box.Text : null;

    /// <summary>Cancelled when the server next reports an error.</summary>
    internal CancellationToken NextServerError
    {
        get
        {
            try
            {
                return Volatile.Read(ref _serverErrorSignal).Token;
            }
            catch (ObjectDisposedException)
            {
                return CancellationToken.None; // swapped out while read: that error has already happened
            }
        }
    }

    private sealed record ServerErrorBox(string Text, long At);

    internal static GryphgenException NotConnected() =>
        new(BusErrors.NotConnected, GryphgenErrorKind.ResourceUnavailable, "The bus connection is closed. Connect again with Connect-GryphBus.");

    /// <summary>Hides user and password in a URL such as nats://user:secret@host:4222.</summary>
    public static string RedactUrl(string url)
    {
        var at = url.LastIndexOf('@');
        if (at < 0)
        {
            return url;
        }

        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var start = scheme >= 0 ? scheme + 3 : 0;
        return at > start ? string.Concat(url.AsSpan(0, start), "***", url.AsSpan(at)) : url;
    }

    private static NatsAuthOpts AuthOptions(BusConnectionOptions options) => NatsAuthOpts.Default with
    {
        Username = options.UserName,
        Password = options.Password,
        Token = options.Token,
        CredsFile = options.CredentialsFile,
        NKeyFile = options.NKeyFile,
    };

    private static NatsTlsOpts TlsOptions(BusConnectionOptions options) => NatsTlsOpts.Default with
    {
        Mode = options.TlsMode switch
        {
            BusTlsMode.Require => NATS.Client.Core.TlsMode.Require,
            BusTlsMode.Disable => NATS.Client.Core.TlsMode.Disable,
            _ => NATS.Client.Core.TlsMode.Auto,
        },
        CaFile = options.CaFile,
        CertFile = options.ClientCertificateFile,
        KeyFile = options.ClientKeyFile,
        InsecureSkipVerify = options.SkipCertificateCheck,
    };

    public override string ToString() => $"{string.Join(",", Servers)} ({Namespace})";

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _ = _connection.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
    }
}

namespace Gryphgen.Core.Bus;

/// <summary>How TLS is used on a bus connection.</summary>
public enum BusTlsMode
{
    /// <summary>TLS when the server asks for it, or when a URL is tls:// or client certificate files are given.</summary>
    Auto,

    /// <summary>TLS always; a server without TLS is refused.</summary>
    Require,

    /// <summary>Never TLS; a server that requires it is refused.</summary>
    Disable,
}

/// <summary>What <see cref="GryphBus.Connect"/> needs. Secrets live here only until the connection is made; nothing prints them.</summary>
public sealed class BusConnectionOptions
{
    public const string DefaultNamespace = "default";

    /// <summary>One or more server URLs (nats://host:4222, tls://host:4222); the client fails over between them.</summary>
    public required IReadOnlyList<string> Urls { get; init; }

    /// <summary>The subject namespace: endpoint E lives at gryph.&lt;namespace&gt;.E.</summary>
    public string Namespace { get; init; } = DefaultNamespace;

    public string? UserName { get; init; }

    public string? Password { get; init; }

    public string? Token { get; init; }

    /// <summary>A NATS .creds file (JWT and NKey seed).</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>A file with an NKey seed.</summary>
    public string? NKeyFile { get; init; }

    public BusTlsMode TlsMode { get; init; } = BusTlsMode.Auto;

    /// <summary>PEM file of the CA that signed the server's certificate, where it is not in the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate and key, for servers that verify clients.</summary>
    public string? ClientCertificateFile { get; init; }

    public string? ClientKeyFile { get; init; }

    /// <summary>Accept any server certificate. For tests against throw-away servers only.</summary>
    public bool SkipCertificateCheck { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The connection name the server shows (e.g. in its connz monitor).</summary>
    public string ClientName { get; init; } = "gryphgen";

    /// <summary>How many servers keep a copy of each endpoint's stream (1, or 3 in a cluster).</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>What kind of credentials were given, for display: never the credentials themselves.</summary>
    public string AuthenticationKind =>
        CredentialsFile is not null ? "CredentialsFile"
        : NKeyFile is not null ? "NKey"
        : Token is not null ? "Token"
        : UserName is not null ? "UserPassword"
        : "None";
}

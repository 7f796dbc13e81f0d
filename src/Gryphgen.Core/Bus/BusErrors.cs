using System.Security.Authentication;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Gryphgen.Core.Bus;

/// <summary>Turns the NATS client's exceptions into errors with stable ids that name what the user can fix.</summary>
internal static class BusErrors
{
    public const string AuthenticationFailed = "GryphBusAuthenticationFailed";
    public const string TlsFailed = "GryphBusTlsFailed";
    public const string Unreachable = "GryphBusUnreachable";
    public const string CredentialFileInvalid = "GryphBusCredentialFileInvalid";
    public const string NotConnected = "GryphBusNotConnected";
    public const string NoJetStream = "GryphBusNoJetStream";
    public const string EndpointNotFound = "GryphEndpointNotFound";
    public const string RequestFailed = "GryphBusRequestFailed";

    public static GryphgenException FromConnect(Exception exception, string servers, TimeSpan timeout, bool refused = false)
    {
        var chain = Chain(exception).ToList();
        var text = string.Join(" | ", chain.Select(e => e.Message));
        if (text.Contains("NKEY file", StringComparison.OrdinalIgnoreCase) || text.Contains("creds file", StringComparison.OrdinalIgnoreCase) ||
            text.Contains("credentials file", StringComparison.OrdinalIgnoreCase))
        {
            return new GryphgenException(CredentialFileInvalid, GryphgenErrorKind.InvalidArgument,
                $"The credentials for the bus at {servers} could not be read: {Innermost(chain)}. -NKeyFile takes a seed file (SU...), -CredentialsFile a .creds file.", servers, exception);
        }

        if (text.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase) ||
            text.Contains("authentication", StringComparison.OrdinalIgnoreCase) && !chain.OfType<AuthenticationException>().Any())
        {
            return new GryphgenException(AuthenticationFailed, GryphgenErrorKind.AuthenticationFailed,
                $"The bus at {servers} refused the credentials (Authorization Violation). Check -Credential, -Token, -CredentialsFile or -NKeyFile.", servers, exception);
        }

        if (chain.OfType<AuthenticationException>().Any() || text.Contains("TLS", StringComparison.Ordinal) || text.Contains("SSL", StringComparison.Ordinal))
        {
            return new GryphgenException(TlsFailed, GryphgenErrorKind.SecurityError,
                $"TLS with the bus at {servers} failed: {Innermost(chain)}. Check -Tls, -CaFile and the server's certificate.", servers, exception);
        }

        if (refused || chain.OfType<System.Net.Sockets.SocketException>().Any(e => e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused))
        {
            return new GryphgenException(Unreachable, GryphgenErrorKind.ConnectionFailed,
                $"The connection to the bus at {servers} was refused: nothing listens there. Is nats-server running, and is that its client port (4222 by default)?", servers, exception);
        }

        return new GryphgenException(Unreachable, GryphgenErrorKind.ConnectionFailed,
            $"No bus server answered at {servers} within {timeout.TotalSeconds:0.#} s: {Innermost(chain)}.", servers, exception);
    }

    public static bool IsNotFound(NatsJSApiException exception) => exception.Error.Code == 404;

    public static GryphgenException EndpointMissing(string endpoint, string ns) =>
        new(EndpointNotFound, GryphgenErrorKind.NotFound,
            $"No endpoint '{endpoint}' on the bus (namespace '{ns}'). Create it with New-GryphPipe -Name {endpoint} while connected (Connect-GryphBus).", endpoint);

    public static GryphgenException Request(Exception exception, string what, string target) =>
        exception switch
        {
            GryphgenException g => g,
            NatsJSApiException api => new GryphgenException(RequestFailed, GryphgenErrorKind.ResourceUnavailable,
                $"The bus refused to {what}: {api.Error.Description} (code {api.Error.Code}, error {api.Error.ErrCode}).", target, exception),
            NatsNoRespondersException => new GryphgenException(NoJetStream, GryphgenErrorKind.ResourceUnavailable,
                $"Nothing on the bus answered the request to {what}: is JetStream enabled on the server (nats-server -js)?", target, exception),
            _ => new GryphgenException(RequestFailed, GryphgenErrorKind.ResourceUnavailable,
                $"Could not {what}: {exception.Message}", target, exception),
        };

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private static string Innermost(List<Exception> chain) => chain[^1].Message.TrimEnd('.');
}

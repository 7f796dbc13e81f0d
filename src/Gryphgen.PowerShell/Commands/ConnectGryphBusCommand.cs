using System.Management.Automation;
using System.Net;
using System.Security;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Messaging;
using Gryphgen.PowerShell.Bus;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Connects this session to a NATS bus. Until Disconnect-GryphBus, named endpoints of New/Get/Remove-GryphPipe,
/// Send/Receive-GryphMessage, Start-GryphAgent and Invoke-GryphChat live on the bus. Secrets are taken as
/// PSCredential or SecureString, passed to the client only, and never logged or shown.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "GryphBus")]
[OutputType(typeof(GryphBus))]
public sealed class ConnectGryphBusCommand : GryphCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] Url { get; set; } = Array.Empty<string>();

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    public SecureString? Token { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CredentialsFile { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NKeyFile { get; set; }

    [Parameter]
    public BusTlsMode Tls { get; set; } = BusTlsMode.Auto;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaFile { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificateFile { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientKeyFile { get; set; }

    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Namespace { get; set; } = Environment.GetEnvironmentVariable("GRYPHGEN_BUS_NAMESPACE") is { Length: > 0 } ns ? ns : BusConnectionOptions.DefaultNamespace;

    [Parameter]
    [ValidateRange(0.1, 600)]
    public double ConnectTimeoutSeconds { get; set; } = 5;

    [Parameter]
    [ValidateRange(1, 5)]
    public int Replicas { get; set; } = 1;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter]
    public SwitchParameter NoDefault { get; set; }

    protected override void EndProcessing()
    {
        var urls = Url.SelectMany(u => u.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        var options = new BusConnectionOptions
        {
            Urls = urls,
            Namespace = Namespace,
            UserName = Credential?.UserName,
            Password = Credential is null ? null : new NetworkCredential(string.Empty, Credential.Password).Password,
            Token = Token is null ? null : new NetworkCredential(string.Empty, Token).Password,
            CredentialsFile = ExistingFile(CredentialsFile),
            NKeyFile = ExistingFile(NKeyFile),
            TlsMode = Tls,
            CaFile = ExistingFile(CaFile),
            ClientCertificateFile = ExistingFile(ClientCertificateFile),
            ClientKeyFile = ExistingFile(ClientKeyFile),
            SkipCertificateCheck = SkipCertificateCheck,
            ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeoutSeconds),
            Replicas = Replicas,
        };

        GryphBus bus;
        using (var log = new GryphLog((_, text) => WriteVerbose(text), null))
        {
            try
            {
                bus = GryphBus.Connect(options, log, CancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
            catch (GryphgenException ex)
            {
                ThrowGryphError(ex);
                return;
            }
        }

        if (!bus.JetStreamEnabled)
        {
            WriteWarning($"The server at {bus.ConnectedServer} has no JetStream: durable endpoints cannot be created there (start it with -js).");
        }

        if (!NoDefault)
        {
            var previous = BusSession.Current;
            BusSession.Current = bus;
            previous?.Dispose();
        }

        if (PassThru)
        {
            WriteObject(bus);
        }
    }

    /// <summary>A file parameter as a full path; a named file that does not exist stops the call before connecting.</summary>
    private string? ExistingFile(string? path)
    {
        if (path is null)
        {
            return null;
        }

        var full = GetUnresolvedProviderPathFromPSPath(path);
        if (!File.Exists(full))
        {
            ThrowGryphError(new GryphgenException("GryphBusFileNotFound", GryphgenErrorKind.NotFound, $"The file '{full}' does not exist.", full));
        }

        return full;
    }
}

using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Creates endpoint inboxes in the private pipe directory, or FIFOs at explicit paths. While a bus is connected
/// (or with -Bus), named endpoints are durable bus endpoints instead: a JetStream stream and consumer each.
/// </summary>
[Cmdlet(VerbsCommon.New, "GryphPipe", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(GryphPipe), typeof(BusEndpoint))]
public sealed class NewGryphPipeCommand : MessagingCmdlet
{
    private const string NameSet = "Name";
    private const string PathSet = "Path";
    private uint _mode = FifoFile.DefaultMode;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Copies of a bus endpoint's stream kept in a cluster; the connection's default (1) when omitted.</summary>
    [Parameter(ParameterSetName = NameSet)]
    [ValidateRange(1, 5)]
    public int? Replicas { get; set; }

    protected override void BeginProcessing()
    {
        try
        {
            _mode = FifoFile.ParseMode(Mode);
        }
        catch (GryphgenException ex)
        {
            ThrowGryphError(ex);
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == NameSet && ActiveBus is { } bus)
        {
            foreach (var name in Name)
            {
                CreateOnBus(bus, name);
            }

            return;
        }

        var targets = ParameterSetName == NameSet
            ? Name.Select(n => (Label: n, IsEndpoint: true))
            : Path.Select(p => (Label: p, IsEndpoint: false));
        foreach (var (label, isEndpoint) in targets)
        {
            try
            {
                var path = isEndpoint ? ResolveEndpoint(label) : ResolvePath(label);
                var action = Force ? "Create (replacing any existing FIFO)" : "Create FIFO";
                if (!ShouldProcess(path, action))
                {
                    continue;
                }

                var outcome = FifoFile.Create(path, _mode, Force, AllowShared);
                Log.Write(Core.Messaging.GryphLogLevel.Info, $"{outcome} pipe {path}");
                WriteObject(FifoFile.Describe(path, isEndpoint));
            }
            catch (GryphgenException ex)
            {
                WriteGryphError(ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WriteItemError(ex, "GryphPipeCreateFailed", ErrorCategory.WriteError, label);
            }
        }
    }

    private void CreateOnBus(GryphBus bus, string name)
    {
        try
        {
            var subject = bus.Transport.Locate(name);
            if (!ShouldProcess(subject, "Create durable bus endpoint"))
            {
                return;
            }

            var created = bus.Transport.CreateEndpoint(name, Replicas ?? bus.Replicas);
            Log.Write(Core.Messaging.GryphLogLevel.Info, $"{(created ? "Created" : "Found")} bus endpoint {name} ({subject})");
            if (bus.Transport.Describe(name, CancellationToken) is { } endpoint)
            {
                WriteObject(endpoint);
            }
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }
}

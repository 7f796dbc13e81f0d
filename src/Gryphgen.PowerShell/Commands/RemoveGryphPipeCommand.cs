using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Removes FIFOs (and nothing else), warning when a process still holds one open; while a bus is connected (or with
/// -Bus), removes named bus endpoints with the messages waiting in them.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "GryphPipe", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveGryphPipeCommand : MessagingCmdlet
{
    private const string NameSet = "Name";
    private const string PathSet = "Path";
    private const string InputObjectSet = "InputObject";
    private const string BusEndpointSet = "BusEndpoint";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public GryphPipe[] InputObject { get; set; } = Array.Empty<GryphPipe>();

    [Parameter(Mandatory = true, ParameterSetName = BusEndpointSet, ValueFromPipeline = true)]
    public BusEndpoint[] BusEndpoint { get; set; } = Array.Empty<BusEndpoint>();

    protected override void ProcessRecord()
    {
        if (ParameterSetName == BusEndpointSet || (ParameterSetName == NameSet && ActiveBus is not null))
        {
            RemoveFromBus();
            return;
        }

        var paths = ParameterSetName switch
        {
            NameSet => Name.Select(n => (Label: n, Resolve: (Func<string>)(() => PipeDirectory.EndpointPath(PipeDirectoryPath, n)))),
            PathSet => Path.Select(p => (Label: p, Resolve: (Func<string>)(() => ResolvePath(p)))),
            _ => InputObject.Select(o => (Label: o.Path, Resolve: (Func<string>)(() => o.Path))),
        };

        foreach (var (label, resolve) in paths)
        {
            try
            {
                var path = resolve();
                var status = UnixFileStatus.OfPath(path)
                    ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound, $"No pipe at '{path}'.", path);
                if (!status.IsFifo)
                {
                    throw new GryphgenException("GryphPipeNotFifo", GryphgenErrorKind.InvalidArgument,
                        $"'{path}' is a {status.TypeName}, not a FIFO; it was left alone.", path);
                }

                FifoAccess.VerifyRemovable(status, path, AllowShared);
                var holders = PipeHolders.Find(path);
                if (holders.Count > 0)
                {
                    WriteWarning($"'{path}' is still open in {string.Join(", ", holders)}; they keep their descriptors, but new peers will not find the pipe.");
                }

                if (ShouldProcess(path, "Remove FIFO"))
                {
                    FifoFile.Remove(path);
                    Log.Write(Core.Messaging.GryphLogLevel.Info, $"Removed pipe {path}");
                }
            }
            catch (GryphgenException ex)
            {
                WriteGryphError(ex);
            }
        }
    }

    private void RemoveFromBus()
    {
        var bus = ActiveBus;
        var names = ParameterSetName == BusEndpointSet ? BusEndpoint.Select(e => e.Name) : Name;
        foreach (var name in names)
        {
            try
            {
                var transport = (bus ?? throw new GryphgenException("GryphBusNotConnected", GryphgenErrorKind.ResourceUnavailable,
                    "Not connected to a bus: connect with Connect-GryphBus, or pass -Bus.", name)).Transport;
                var endpoint = transport.Describe(name, CancellationToken) ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
                    $"No endpoint named '{name}' on the bus (namespace '{bus.Namespace}').", name);
                var action = endpoint.Messages > 0 ? $"Remove durable bus endpoint and the {endpoint.Messages} message(s) waiting in it" : "Remove durable bus endpoint";
                if (ShouldProcess(endpoint.Subject, action))
                {
                    transport.RemoveEndpoint(name);
                    Log.Write(Core.Messaging.GryphLogLevel.Info, $"Removed bus endpoint {name} ({endpoint.Subject})");
                }
            }
            catch (GryphgenException ex)
            {
                WriteGryphError(ex);
            }
        }
    }
}

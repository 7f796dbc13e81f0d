using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Removes FIFOs (and nothing else), warning when a process still holds one open; while a bus is connected (or with
/// -Bus), removes named bus endpoints, asking first (as a High impact change) when messages are waiting in one.
/// -Name takes wildcards, as Get-GryphPipe does.
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
    [SupportsWildcards]
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

    /// <summary>Removes bus endpoints that hold messages without asking.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == BusEndpointSet || (ParameterSetName == NameSet && ActiveBus is not null))
        {
            RemoveFromBus();
            return;
        }

        var paths = ParameterSetName switch
        {
            NameSet => ExpandLocalNames().Select(n => (Label: n, Resolve: (Func<string>)(() => PipeDirectory.EndpointPath(PipeDirectoryPath, n)))),
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

    /// <summary>The literal names as given, and each wildcard replaced by the FIFOs of the pipe directory it matches.</summary>
    private IEnumerable<string> ExpandLocalNames()
    {
        foreach (var name in Name)
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name))
            {
                yield return name;
                continue;
            }

            var directory = PipeDirectoryPath;
            if (!Directory.Exists(directory))
            {
                continue;
            }

            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            foreach (var path in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
            {
                if (pattern.IsMatch(System.IO.Path.GetFileName(path)) && UnixFileStatus.OfPath(path) is { IsFifo: true })
                {
                    yield return System.IO.Path.GetFileName(path);
                }
            }
        }
    }

    private void RemoveFromBus()
    {
        var bus = ActiveBus;
        if (bus is null)
        {
            foreach (var name in ParameterSetName == BusEndpointSet ? BusEndpoint.Select(e => e.Name) : Name)
            {
                WriteGryphError(new GryphgenException("GryphBusNotConnected", GryphgenErrorKind.ResourceUnavailable,
                    "Not connected to a bus: connect with Connect-GryphBus, or pass -Bus.", name));
            }

            return;
        }

        foreach (var name in ParameterSetName == BusEndpointSet ? BusEndpoint.Select(e => e.Name) : Name)
        {
            try
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    foreach (var endpoint in bus.Transport.ListEndpoints(CancellationToken).Where(e => pattern.IsMatch(e.Name)))
                    {
                        Remove(bus, endpoint);
                    }

                    continue;
                }

                var described = bus.Transport.Describe(name, CancellationToken) ?? throw new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
                    $"No endpoint named '{name}' on the bus (namespace '{bus.Namespace}').", name);
                Remove(bus, described);
            }
            catch (GryphgenException ex)
            {
                WriteGryphError(ex);
            }
        }
    }

    private void Remove(GryphBus bus, BusEndpoint endpoint)
    {
        var action = endpoint.Messages > 0 ? $"Remove durable bus endpoint and the {endpoint.Messages} message(s) waiting in it" : "Remove durable bus endpoint";
        if (!ShouldProcess(endpoint.Subject, action) || (endpoint.Messages > 0 && !ConfirmLosingMessages(endpoint)))
        {
            return;
        }

        try
        {
            bus.Transport.RemoveEndpoint(endpoint.Name);
            Log.Write(Core.Messaging.GryphLogLevel.Info, $"Removed bus endpoint {endpoint.Name} ({endpoint.Subject})");
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }

    /// <summary>
    /// Losing messages is a High impact change; the cmdlet as a whole is Medium (an empty endpoint costs nothing).
    /// So this asks as PowerShell asks for High impact: unless -Force, -Confirm (already asked) or -Confirm:$false was
    /// given, or $ConfirmPreference is None. A host that cannot ask gets an error naming -Force instead of a loss.
    /// </summary>
    private bool ConfirmLosingMessages(BusEndpoint endpoint)
    {
        if (Force || MyInvocation.BoundParameters.ContainsKey("Confirm")
            || (SessionState.PSVariable.GetValue("ConfirmPreference") is ConfirmImpact preference && preference == ConfirmImpact.None))
        {
            return true;
        }

        var query = $"Endpoint '{endpoint.Name}' holds {endpoint.Messages} message(s) that no receiver has taken; removing it deletes them. Remove it?";
        try
        {
            return ShouldContinue(query, "Remove a bus endpoint that holds messages");
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or System.Management.Automation.Host.HostException)
        {
            WriteGryphError(new GryphgenException("GryphPipeHoldsMessages", GryphgenErrorKind.OperationStopped,
                $"Endpoint '{endpoint.Name}' holds {endpoint.Messages} message(s), and this host cannot ask whether to delete them; it was left alone. Pass -Force (or -Confirm:$false) to remove it anyway.", endpoint.Name));
            return false;
        }
    }
}

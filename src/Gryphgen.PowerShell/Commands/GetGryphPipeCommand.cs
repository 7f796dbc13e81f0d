using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Bus;
using Gryphgen.Core.Fifo;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Lists pipes with the processes that hold them open, read from /proc without opening the pipes; while a bus is
/// connected (or with -Bus), the bus endpoints of its namespace with the messages waiting in each.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GryphPipe", DefaultParameterSetName = NameSet)]
[OutputType(typeof(GryphPipe), typeof(BusEndpoint))]
public sealed class GetGryphPipeCommand : MessagingCmdlet
{
    private const string NameSet = "Name";
    private const string PathSet = "Path";

    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        if (ParameterSetName == PathSet)
        {
            var paths = Path.Select(ResolvePath).ToArray();
            var holders = PipeHolders.FindAll(paths);
            foreach (var path in paths)
            {
                Describe(path, isEndpoint: false, holders);
            }

            return;
        }

        if (ActiveBus is { } bus)
        {
            ListBusEndpoints(bus);
            return;
        }

        var directory = PipeDirectoryPath;
        if (!Directory.Exists(directory))
        {
            WriteVerbose($"The pipe directory '{directory}' does not exist yet; no endpoints.");
            return;
        }

        var patterns = Name.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        var fifos = Directory.EnumerateFileSystemEntries(directory)
            .Where(p => patterns.Any(w => w.IsMatch(System.IO.Path.GetFileName(p))))
            .Where(p => UnixFileStatus.OfPath(p) is { IsFifo: true })
            .Order(StringComparer.Ordinal)
            .ToArray();
        var found = PipeHolders.FindAll(fifos);
        foreach (var path in fifos)
        {
            Describe(path, isEndpoint: true, found);
        }

        foreach (var literal in Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
        {
            if (!fifos.Any(p => string.Equals(System.IO.Path.GetFileName(p), literal, StringComparison.OrdinalIgnoreCase)))
            {
                WriteGryphError(new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
                    $"No endpoint named '{literal}' in '{directory}'.", literal));
            }
        }
    }

    private void ListBusEndpoints(GryphBus bus)
    {
        try
        {
            var patterns = Name.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
            var endpoints = bus.Transport.ListEndpoints(CancellationToken).Where(e => patterns.Any(w => w.IsMatch(e.Name))).ToArray();
            WriteObject(endpoints, enumerateCollection: true);
            foreach (var literal in Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
            {
                if (!endpoints.Any(e => string.Equals(e.Name, literal, StringComparison.OrdinalIgnoreCase)))
                {
                    WriteGryphError(new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
                        $"No endpoint named '{literal}' on the bus (namespace '{bus.Namespace}').", literal));
                }
            }
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }

    private void Describe(string path, bool isEndpoint, IReadOnlyDictionary<string, IReadOnlyList<PipeHolder>> holders)
    {
        try
        {
            WriteObject(FifoFile.Describe(path, isEndpoint, holders.TryGetValue(path, out var h) ? h : Array.Empty<PipeHolder>()));
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }
}

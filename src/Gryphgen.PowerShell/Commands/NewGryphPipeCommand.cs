using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Fifo;

namespace Gryphgen.PowerShell.Commands;

/// <summary>Creates endpoint inboxes in the private pipe directory, or FIFOs at explicit paths.</summary>
[Cmdlet(VerbsCommon.New, "GryphPipe", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(GryphPipe))]
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
}

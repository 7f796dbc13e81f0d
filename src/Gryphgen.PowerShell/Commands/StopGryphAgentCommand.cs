using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Agents;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Stops agents of this process. A message in flight may finish within -TimeoutSeconds (0.5 s by default);
/// after that, or at once with -Force, its generation is cancelled and the sender gets a Cancelled error reply.
/// The inbox is removed only when Start-GryphAgent created it.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "GryphAgent", SupportsShouldProcess = true)]
[OutputType(typeof(GryphAgent))]
public sealed class StopGryphAgentCommand : GryphCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [ValidateRange(0, 3600)]
    public double TimeoutSeconds { get; set; } = 0.5;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForEachNamed(
        Name,
        () => AgentRegistry.All,
        a => a.Name,
        name => new GryphgenException("GryphAgentNotFound", GryphgenErrorKind.NotFound, $"No agent serves '{name}' in this process (Get-GryphAgent lists them).", name),
        agent =>
        {
            if (!ShouldProcess(agent.Name, "Stop agent"))
            {
                return;
            }

            var finished = agent.Stop(Force ? TimeSpan.Zero : TimeSpan.FromSeconds(TimeoutSeconds));
            AgentRegistry.Remove(agent);
            if (!finished)
            {
                WriteWarning($"Agent {agent.Name}: its backend did not stop at once; it ends when the current message ends.");
            }

            if (PassThru)
            {
                WriteObject(agent);
            }
        });
}

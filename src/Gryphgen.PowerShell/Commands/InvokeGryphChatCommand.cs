using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Agents;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Runs a conversation between agent endpoints and emits each line as it happens. The chat sends from a
/// temporary endpoint chat-&lt;id&gt; that it creates and removes, also on Ctrl+C.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "GryphChat")]
[OutputType(typeof(ChatTranscriptEntry))]
public sealed class InvokeGryphChatCommand : MessagingCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string[] Participants { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1)]
    [AllowEmptyString]
    public string Opening { get; set; } = string.Empty;

    [Parameter]
    [ValidateRange(1, 10000)]
    public int Rounds { get; set; } = 3;

    [Parameter]
    [ValidateRange(0.001, 86400)]
    public double TimeoutSeconds { get; set; } = 120;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Transcript { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var directory = PipeDirectory.Ensure(PipeDirectoryPath, AllowShared);
            var transport = EndpointTransport;
            foreach (var participant in Participants)
            {
                if (!transport.EndpointExists(participant))
                {
                    ThrowGryphError(new GryphgenException("GryphChatParticipantNotFound", GryphgenErrorKind.NotFound,
                        $"No endpoint '{participant}' in {transport.Description}. Start an agent for it with Start-GryphAgent -Name {participant}.", participant));
                }
            }

            // A FIFO that nothing reads would only time out; say so now. (A bus endpoint may be served from
            // another host, and keeps the message for an agent that starts later, so it is not checked.)
            if (transport is FifoTransport)
            {
                var unserved = Participants.Where(p => !AgentRegistry.IsRunning(p)).ToList();
                var holders = PipeHolders.FindAll(unserved.Select(transport.Locate).ToArray());
                foreach (var participant in unserved)
                {
                    if (!holders.TryGetValue(transport.Locate(participant), out var found) || !found.Any(h => h.Reading))
                    {
                        ThrowGryphError(new GryphgenException("GryphChatParticipantNotServed", GryphgenErrorKind.ResourceUnavailable,
                            $"The endpoint '{participant}' exists, but no agent serves it: no agent of this process, and no process has it open for reading. Start one with Start-GryphAgent -Name {participant}.", participant));
                    }
                }
            }

            var options = new ChatConversationOptions
            {
                Participants = Participants,
                Opening = Opening,
                Rounds = Rounds,
                PipeDirectory = directory,
                AllowShared = AllowShared,
                Transport = transport,
                ReplyTimeout = TimeSpan.FromSeconds(TimeoutSeconds),
                TranscriptPath = Transcript is null ? null : GetUnresolvedProviderPathFromPSPath(Transcript),
                Log = Log,
            };
            ChatConversation.Run(options, WriteObject, CancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }
}

using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Receives messages from an endpoint or pipe and emits each as it arrives. -Count N stops after N messages
/// (the timeout bounds the whole call); -Continuous runs until Ctrl+C, or, when -TimeoutSeconds is given, until that
/// many seconds pass idle: a persistent responder must not end on its own because nobody wrote for a while.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "GryphMessage", DefaultParameterSetName = NameSet)]
[OutputType(typeof(GryphMessage))]
public sealed class ReceiveGryphMessageCommand : MessagingCmdlet
{
    private const string NameSet = "Name";
    private const string PathSet = "Path";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string Name { get; set; } = string.Empty;

    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    [Parameter]
    public SwitchParameter Continuous { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = 30;

    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxMessageBytes { get; set; } = FrameFormat.DefaultMaxMessageBytes;

    [Parameter]
    public SwitchParameter Raw { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            using var receiver = ParameterSetName == NameSet
                ? EndpointTransport.OpenReceiver(Name, MaxMessageBytes, Log, CancellationToken)
                : OpenPath(ResolvePath(Path));
            var path = receiver.Path;
            var received = 0;
            var timeoutSeconds = Continuous && !MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSeconds)) ? 0 : TimeoutSeconds;
            var deadline = DeadlineFrom(timeoutSeconds);
            while (Continuous || received < Count)
            {
                var result = Raw ? receiver.ReceiveRaw(deadline) : receiver.Receive(deadline);
                if (result.Message is { } message)
                {
                    Emit(receiver, message);
                    received++;
                    if (Continuous)
                    {
                        deadline = DeadlineFrom(timeoutSeconds); // the timeout counts idle time
                    }
                }
                else if (result.Error is { } error)
                {
                    WriteGryphError(error);
                }
                else if (Continuous)
                {
                    if (UnfinishedLine(receiver) is { } unfinished)
                    {
                        WriteWarning($"No whole line on '{path}' for {TimeoutSeconds} s; stopping. {unfinished}");
                    }

                    WriteVerbose($"No message on '{path}' for {TimeoutSeconds} s; stopping.");
                    return;
                }
                else
                {
                    WriteGryphError(new GryphgenException("GryphReceiveTimeout", GryphgenErrorKind.Timeout,
                        $"Received {received} of {Count} message(s) on '{path}' before the timeout of {TimeoutSeconds} s: no writer sent more.{(UnfinishedLine(receiver) is { } unfinished ? " " + unfinished : string.Empty)}", path));
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex); // one bad endpoint; with pipeline input the next one still goes
        }
    }

    /// <summary>What a raw receiver that stops now loses: the start of a line whose newline has not come.</summary>
    private static string? UnfinishedLine(IMessageReceiver receiver) =>
        receiver is GryphMessageReceiver { UnfinishedRawLineBytes: > 0 and var bytes }
            ? $"The first {bytes} byte(s) of a line whose newline had not come were taken and are lost; the next receiver gets the rest of that line as a line of its own."
            : null;

    /// <summary>A FIFO at an explicit path, whose messages name the path as their endpoint.</summary>
    private GryphMessageReceiver OpenPath(string path) =>
        GryphMessageReceiver.Open(path, path, AllowShared, MaxMessageBytes, Log, CancellationToken);

    /// <summary>
    /// Acknowledges a message only once it has been emitted, so a durable inbox delivers it again otherwise. A
    /// downstream command that has had enough (Select-Object -First) stops the commands before it while taking the
    /// last object it wanted, and that one was emitted; the pipeline as a whole is not stopping then. Ctrl+C marks
    /// the pipeline stopping first and then interrupts a downstream script block, whose stop reaches WriteObject here
    /// before this command's StopProcessing runs: the message was not handled, and stays unacknowledged, as it does
    /// when a downstream command fails.
    /// </summary>
    private void Emit(IMessageReceiver receiver, GryphMessage message)
    {
        // What a PowerShell user does with a message reads its Content: make the string now and give the frame's
        // memory back, so that the next message is read into it rather than into fresh memory.
        _ = message.Content;
        message.Release();
        try
        {
            WriteObject(message);
        }
        catch (PipelineStoppedException) when (TakenDownstream)
        {
            receiver.Acknowledge(message);
            throw;
        }

        receiver.Acknowledge(message);
    }

    /// <summary>Whether a stop came from a downstream command that took the object and wants no more (see <see cref="Emit"/>).</summary>
    private bool TakenDownstream => !Stopping && !CancellationToken.IsCancellationRequested;
}

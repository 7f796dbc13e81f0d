using System.Collections;
using System.Globalization;
using System.Management.Automation;
using Gryphgen.Core;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Sends each pipeline item as one message to an endpoint or pipe, all through one open descriptor.
/// -TimeoutSeconds bounds the whole call, waiting for a reader included. Named endpoints are on the session's bus
/// while one is connected (Connect-GryphBus), else in the pipe directory.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "GryphMessage", DefaultParameterSetName = ToSet)]
[OutputType(typeof(GryphMessage))]
public sealed class SendGryphMessageCommand : MessagingCmdlet
{
    private const string ToSet = "To";
    private const string PathSet = "Path";
    private IMessageSender? _sender;
    private Deadline _deadline;
    private IReadOnlyDictionary<string, string> _metadata = new Dictionary<string, string>();
    private string _target = string.Empty;
    private bool _unusable;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ToSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string To { get; set; } = string.Empty;

    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// The message text: a string, anything PowerShell converts to one, or (from the pipeline) an object with a
    /// Content property. Typed PSObject, not string, because the binder then takes every pipeline item in its
    /// first pass: binding an int to a string parameter costs it two failed passes and a conversion, several
    /// times the cost of sending the message. <see cref="ContentText"/> does what the binder would have done.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public PSObject Content { get; set; } = PSObject.AsPSObject(string.Empty);

    [Parameter]
    public string? From { get; set; }

    [Parameter]
    public string? ReplyTo { get; set; }

    [Parameter]
    public Hashtable? Metadata { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public double TimeoutSeconds { get; set; } = 30;

    [Parameter]
    public SwitchParameter Raw { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        _deadline = DeadlineFrom(TimeoutSeconds);
        if (Metadata is not null)
        {
            _metadata = Metadata.Cast<DictionaryEntry>().ToDictionary(
                e => Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? string.Empty,
                e => Convert.ToString(e.Value is PSObject p ? p.BaseObject : e.Value, CultureInfo.InvariantCulture) ?? string.Empty,
                StringComparer.Ordinal);
        }
    }

    protected override void ProcessRecord()
    {
        if (_unusable)
        {
            return; // the pipe could not be opened: the error was written once, not once per item
        }

        try
        {
            _sender ??= Open();

            // Without -PassThru or logging nothing is reported per message, so frames arriving back to back are
            // written together (see GryphMessageSender.Queue); EndProcessing writes the rest.
            var batch = !PassThru && !Log.IsEnabled;
            var text = ContentText(Content, fromPipeline: MyInvocation.ExpectingInput);
            if (Raw)
            {
                if (batch)
                {
                    _sender.QueueRaw(text, _deadline);
                }
                else
                {
                    _sender.SendRaw(text, _deadline);
                }

                return;
            }

            var message = new GryphMessage
            {
                Id = GryphMessage.NewId(),
                From = From,
                To = _target,
                ReplyTo = ReplyTo,
                Timestamp = DateTime.UtcNow,
                Content = text,
                Metadata = _metadata,
                Bytes = System.Text.Encoding.UTF8.GetByteCount(text),
            };
            if (batch)
            {
                _ = _sender.Queue(message, _deadline);
            }
            else
            {
                _ = _sender.Send(message, _deadline);
            }

            if (PassThru)
            {
                WriteObject(message);
            }
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (GryphgenException ex) when (_sender is null || ex.Kind is GryphgenErrorKind.Timeout or GryphgenErrorKind.ResourceUnavailable)
        {
            // The pipe itself is unusable (no reader, wrong permissions, gone): no later message can go either.
            _unusable = true;
            WriteGryphError(ex);
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }

    /// <summary>
    /// The text of <paramref name="content"/> as a string parameter would have bound it: strings, numbers, bools and
    /// chars as they are (numbers invariantly); from the pipeline, the Content property of an object that has one (by
    /// property name: a GryphMessage, or a custom object); anything else converted as PowerShell converts to string
    /// (arrays joined with $OFS).
    /// </summary>
    internal static string ContentText(PSObject content, bool fromPipeline)
    {
        var value = content.BaseObject;
        if (value is string text)
        {
            return text;
        }

        // A number, bool or char is a value, sent as itself like a string, never probed for a Content property:
        // looking up a property an int doesn't have costs PowerShell 1-2 us, more than sending the message.
        if (value.GetType().IsPrimitive)
        {
            return value is int or long or short or sbyte or uint or ulong or ushort or byte
                ? ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture)
                : LanguagePrimitives.ConvertTo<string>(value);
        }

        if (fromPipeline)
        {
            if (value is GryphMessage message)
            {
                return message.Content;
            }

            if (content.Properties["Content"] is { IsGettable: true } property)
            {
                return LanguagePrimitives.ConvertTo<string>(property.Value);
            }
        }

        return LanguagePrimitives.ConvertTo<string>(content);
    }

    protected override void EndProcessing()
    {
        if (_sender is null || _unusable)
        {
            return;
        }

        try
        {
            _sender.Flush(_deadline);
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

    private IMessageSender Open()
    {
        if (ParameterSetName == ToSet)
        {
            _target = To;
            return EndpointTransport.OpenSender(To, _deadline, Log, CancellationToken);
        }

        _target = ResolvePath(Path);
        return GryphMessageSender.Open(_target, AllowShared, _deadline, Log, CancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sender?.Dispose();
        }

        base.Dispose(disposing);
    }
}

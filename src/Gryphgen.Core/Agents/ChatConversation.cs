using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Agents;

/// <summary>One line of a conversation run by <see cref="ChatConversation"/>: who said what to whom, how fast, and at what token cost.</summary>
public sealed class ChatTranscriptEntry
{
    /// <summary>0 for the opening line, then 1..Rounds; in a round every participant speaks once.</summary>
    public int Round { get; init; }

    /// <summary>The speaker: a participant endpoint, or the chat's own endpoint for the opening.</summary>
    public required string From { get; init; }

    /// <summary>Who the line goes to next: the following participant.</summary>
    public required string To { get; init; }

    public required string Content { get; init; }

    /// <summary>From sending the request to receiving this reply.</summary>
    public TimeSpan Latency { get; init; }

    public int? PromptTokens { get; init; }

    public int? CompletionTokens { get; init; }

    /// <summary>Prompt plus completion tokens, where the backend reported them.</summary>
    public int? Tokens => PromptTokens is null && CompletionTokens is null ? null : (PromptTokens ?? 0) + (CompletionTokens ?? 0);

    /// <summary>How many turns (system prompt included) the speaker's backend saw for this reply.</summary>
    public int? HistoryMessages { get; init; }

    /// <summary>The id of the request this line answers (null for the opening).</summary>
    public string? RequestId { get; init; }

    public string? MessageId { get; init; }

    /// <summary>The reply's ReplyTo, which equals <see cref="RequestId"/> when the agent answered correctly.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>The agent's backend error kind (a <see cref="ChatErrorKind"/>) when it answered with an error.</summary>
    public string? Error { get; init; }

    public string? Backend { get; init; }

    public DateTime Timestamp { get; init; } = DateTime.Now;
}

/// <summary>Options of one conversation.</summary>
public sealed class ChatConversationOptions
{
    public required IReadOnlyList<string> Participants { get; init; }

    public required string Opening { get; init; }

    public int Rounds { get; init; } = 3;

    public required string PipeDirectory { get; init; }

    public bool AllowShared { get; init; }

    /// <summary>Where the participants and the chat's own endpoint live; the FIFOs of <see cref="PipeDirectory"/> when null.</summary>
    public IMessageTransport? Transport { get; init; }

    /// <summary>How long one participant may take to answer.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>JSON Lines file that gets one entry per line as the chat goes; null for none.</summary>
    public string? TranscriptPath { get; init; }

    public GryphLog Log { get; init; } = GryphLog.None;
}

/// <summary>
/// Runs a conversation between agent endpoints: the opening goes to the first participant, each reply goes on to
/// the next participant, round after round. The chat speaks from a temporary endpoint "chat-&lt;id&gt;" that it
/// creates and always removes, also when cancelled.
/// </summary>
public static class ChatConversation
{
    private static readonly JsonSerializerOptions JsonLines = new() { WriteIndented = false };

    public static void Run(ChatConversationOptions options, Action<ChatTranscriptEntry> emit, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(emit);
        if (options.Participants.Count == 0)
        {
            throw new GryphgenException("GryphChatNoParticipants", GryphgenErrorKind.InvalidArgument, "A chat needs at least one participant.");
        }

        var chatName = "chat-" + Guid.NewGuid().ToString("N")[..12];
        var transport = options.Transport ?? new FifoTransport(options.PipeDirectory, options.AllowShared);
        transport.CreateEndpoint(chatName);
        FileStream? transcript = null;
        try
        {
            if (options.TranscriptPath is not null)
            {
                transcript = new FileStream(options.TranscriptPath, FileMode.Create, FileAccess.Write, FileShare.Read);
            }

            void Record(ChatTranscriptEntry entry)
            {
                if (transcript is not null)
                {
                    var line = JsonSerializer.SerializeToUtf8Bytes(entry, JsonLines);
                    transcript.Write(line);
                    transcript.WriteByte((byte)'\n');
                    transcript.Flush();
                }

                emit(entry);
            }

            using var receiver = transport.OpenReceiver(chatName, FrameFormat.DefaultMaxMessageBytes, options.Log, token);
            var text = options.Opening;
            Record(new ChatTranscriptEntry { Round = 0, From = chatName, To = options.Participants[0], Content = text });
            for (var round = 1; round <= options.Rounds; round++)
            {
                for (var i = 0; i < options.Participants.Count; i++)
                {
                    var participant = options.Participants[i];
                    var request = new GryphMessage
                    {
                        Id = GryphMessage.NewId(),
                        From = chatName,
                        To = participant,
                        Timestamp = DateTime.Now,
                        Content = text,
                        Bytes = System.Text.Encoding.UTF8.GetByteCount(text),
                        Metadata = new Dictionary<string, string> { ["round"] = round.ToString(CultureInfo.InvariantCulture) },
                    };
                    var started = Stopwatch.GetTimestamp();
                    var deadline = Deadline.After(options.ReplyTimeout);
                    using (var sender = transport.OpenSender(participant, deadline, options.Log, token))
                    {
                        sender.Send(request, deadline);
                    }

                    var reply = AwaitReply(receiver, request, participant, deadline, options);
                    var entry = new ChatTranscriptEntry
                    {
                        Round = round,
                        From = participant,
                        To = options.Participants[(i + 1) % options.Participants.Count],
                        Content = reply.Content,
                        Latency = Stopwatch.GetElapsedTime(started),
                        PromptTokens = IntMeta(reply, GryphAgent.MetaPromptTokens),
                        CompletionTokens = IntMeta(reply, GryphAgent.MetaCompletionTokens),
                        HistoryMessages = IntMeta(reply, GryphAgent.MetaHistoryMessages),
                        RequestId = request.Id,
                        MessageId = reply.Id,
                        ReplyTo = reply.ReplyTo,
                        Error = reply.Metadata.TryGetValue(GryphAgent.MetaError, out var error) ? error : null,
                        Backend = reply.Metadata.TryGetValue(GryphAgent.MetaBackend, out var backend) ? backend : null,
                    };
                    Record(entry);
                    receiver.Acknowledge(reply);
                    if (entry.Error is not null)
                    {
                        var detail = reply.Metadata.TryGetValue(GryphAgent.MetaErrorMessage, out var m) ? m : entry.Error;
                        throw new ChatBackendException(entry.Error, $"{participant} answered with an error in round {round}: {detail}");
                    }

                    text = reply.Content;
                }
            }
        }
        finally
        {
            transcript?.Dispose();
            try
            {
                transport.RemoveEndpoint(chatName);
            }
            catch (GryphgenException)
            {
                // already gone
            }
        }
    }

    private static GryphMessage AwaitReply(IMessageReceiver receiver, GryphMessage request, string participant, Deadline deadline, ChatConversationOptions options)
    {
        while (true)
        {
            var result = receiver.Receive(deadline);
            if (result.Message is { } message)
            {
                if (message.ReplyTo == request.Id)
                {
                    return message;
                }

                options.Log.Write(GryphLogLevel.Warn, $"Ignoring message {message.Id} from {message.From ?? "?"}: it does not answer {request.Id}.");
                receiver.Acknowledge(message);
            }
            else if (result.IsTimeout)
            {
                throw new GryphgenException("GryphChatReplyTimeout", GryphgenErrorKind.Timeout,
                    $"{participant} did not answer within {options.ReplyTimeout.TotalSeconds:0.#} s. Is an agent serving it? (Get-GryphAgent, Start-GryphAgent)", participant);
            }
        }
    }

    private static int? IntMeta(GryphMessage message, string key) =>
        message.Metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}

using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Agents;

/// <summary>Who said a turn, in the roles every chat template and chat-completions server knows.</summary>
public enum ChatRole
{
    System,
    User,
    Assistant,
}

/// <summary>One turn of a conversation; <see cref="Message"/> is the pipe message a user turn came from, when there is one.</summary>
public sealed record ChatTurn(ChatRole Role, string Content)
{
    public GryphMessage? Message { get; init; }

    /// <summary>The role as chat-completions and chat templates spell it: system, user, assistant.</summary>
    public string RoleName => Role switch
    {
        ChatRole.System => "system",
        ChatRole.Assistant => "assistant",
        _ => "user",
    };
}

/// <summary>A backend's answer: the text, and the token counts where the backend knows them.</summary>
public sealed record ChatReply(string Content, int? PromptTokens = null, int? CompletionTokens = null);

using Gryphgen.Core.Agents;
using Gryphgen.LlamaSharp;

namespace Gryphgen.Core.Tests.Agents;

/// <summary>Two agents backed by llama.cpp in-process on llama-2-tiny-random.gguf (random weights: the words are noise, the mechanics are real).</summary>
public sealed class LlamaChatTests
{
    [SkippableFact]
    public void TwoLlamaAgents_Chat_ReplyIdsMatch_HistoryGrowsEveryRound_TokensAreCounted()
    {
        var model = Path.Combine(SharedTestData.Folder("gguf"), "llama-2-tiny-random.gguf");
        using var client = new AgentClient();
        client.CreateEndpoint("llama-a");
        client.CreateEndpoint("llama-b");
        var options = new LocalModelOptions { ModelPath = model, ContextLength = 512, MaxTokens = 8 };
        using var a = GryphAgent.Start(client.Options("llama-a", systemPrompt: "You are A."), new LlamaChatBackend(options));
        using var b = GryphAgent.Start(client.Options("llama-b"), new LlamaChatBackend(options));
        var transcript = Path.Combine(client.Directory, "chat.jsonl");

        var entries = new List<ChatTranscriptEntry>();
        ChatConversation.Run(new ChatConversationOptions
        {
            Participants = ["llama-a", "llama-b"],
            Opening = "Hello, who are you?",
            Rounds = 3,
            PipeDirectory = client.Directory,
            TranscriptPath = transcript,
        }, entries.Add, CancellationToken.None);

        Assert.Equal(7, entries.Count);
        Assert.Equal(0, entries[0].Round);
        var replies = entries.Skip(1).ToArray();
        Assert.Equal([1, 1, 2, 2, 3, 3], replies.Select(e => e.Round).ToArray());
        Assert.Equal(["llama-a", "llama-b", "llama-a", "llama-b", "llama-a", "llama-b"], replies.Select(e => e.From).ToArray());
        foreach (var reply in replies)
        {
            Assert.NotNull(reply.RequestId);
            Assert.Equal(reply.RequestId, reply.ReplyTo);
            Assert.Null(reply.Error);
            Assert.True(reply.PromptTokens > 0);
            Assert.InRange(reply.CompletionTokens ?? -1, 1, 8);
            Assert.StartsWith("llama.cpp:", reply.Backend, StringComparison.Ordinal);
        }

        // Each agent's history grows every round: A (with a system prompt) sees 2, 4, 6 turns; B sees 1, 3, 5.
        Assert.Equal([2, 4, 6], replies.Where(e => e.From == "llama-a").Select(e => e.HistoryMessages ?? 0).ToArray());
        Assert.Equal([1, 3, 5], replies.Where(e => e.From == "llama-b").Select(e => e.HistoryMessages ?? 0).ToArray());
        var promptsA = replies.Where(e => e.From == "llama-a").Select(e => e.PromptTokens ?? 0).ToArray();
        Assert.True(promptsA[0] < promptsA[1] && promptsA[1] < promptsA[2], string.Join(",", promptsA));
        Assert.Equal(7, File.ReadAllLines(transcript).Length);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(client.Directory), p => Path.GetFileName(p).StartsWith("chat-", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void FileWithoutChatTemplate_UsesThePlainFallbackTranscript()
    {
        var model = Path.Combine(SharedTestData.Folder("gguf"), "llama-2-tiny-random.gguf");
        using var backend = new LlamaChatBackend(new LocalModelOptions { ModelPath = model, ContextLength = 256, MaxTokens = 4 });

        Assert.False(backend.HasChatTemplate);
        Assert.Equal("System: s\nUser: u\nAssistant: a\nUser: v\nAssistant:", backend.FormatPrompt(
            [new(ChatRole.System, "s"), new(ChatRole.User, "u"), new(ChatRole.Assistant, "a"), new(ChatRole.User, "v")]));
    }
}

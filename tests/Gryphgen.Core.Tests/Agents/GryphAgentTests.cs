using System.Diagnostics;
using System.Globalization;
using Gryphgen.Core.Agents;
using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Tests.Agents;

public sealed class GryphAgentTests
{
    private static ScriptedBackend Echo() =>
        new((history, _) => Task.FromResult(new ChatReply($"#{history.Count}: {history[^1].Content}", history.Count * 10, 5)));

    private static int Meta(Gryphgen.Core.Messaging.GryphMessage reply, string key) =>
        int.Parse(reply.Metadata[key], CultureInfo.InvariantCulture);

    [Fact]
    public void Replies_CarryTheRequestId_AndThePeersHistoryGrows_UpToTheBound()
    {
        using var client = new AgentClient();
        client.CreateEndpoint("a1");
        var backend = Echo();
        using var agent = GryphAgent.Start(client.Options("a1", systemPrompt: "be kind", maxHistory: 4), backend);

        var counts = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var request = client.Send("a1", "m" + i);
            var reply = client.Receive();
            Assert.Equal(request.Id, reply.ReplyTo);
            Assert.Equal("a1", reply.From);
            Assert.Equal(AgentClient.ClientName, reply.To);
            Assert.Equal("scripted", reply.Metadata[GryphAgent.MetaBackend]);
            Assert.True(double.Parse(reply.Metadata[GryphAgent.MetaLatencyMs], CultureInfo.InvariantCulture) >= 0);
            Assert.Equal(Meta(reply, GryphAgent.MetaHistoryMessages) * 10, Meta(reply, GryphAgent.MetaPromptTokens));
            Assert.Equal(5, Meta(reply, GryphAgent.MetaCompletionTokens));
            counts.Add(Meta(reply, GryphAgent.MetaHistoryMessages));
        }

        // system + the message, then two more turns per exchange, until 4 remembered turns are the cap
        Assert.Equal([2, 4, 6, 6], counts);
        Assert.Equal(["be kind", "m1", "#4: m1", "m2", "#6: m2", "m3"], backend.Calls[^1].Select(t => t.Content).ToArray());
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.User, ChatRole.Assistant, ChatRole.User], backend.Calls[^1].Select(t => t.Role).ToArray());
        Assert.Equal(4, agent.MessagesHandled);
        Assert.Equal([AgentClient.ClientName], agent.Peers);
        Assert.True(agent.Stop(TimeSpan.FromSeconds(1)));
        Assert.True(backend.Disposed);
        Assert.Contains("Received message", File.ReadAllText(Path.Combine(client.Directory, "a1.agent.log")), StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_MidGeneration_ReturnsWithinASecond_RepliesCancelled_AndLeavesTheInboxUsable()
    {
        using var client = new AgentClient();
        var inbox = client.CreateEndpoint("slow");
        using var generating = new ManualResetEventSlim();
        var slow = new ScriptedBackend(async (_, token) =>
        {
            generating.Set();
            await Task.Delay(Timeout.Infinite, token);
            return new ChatReply("never");
        });
        var agent = GryphAgent.Start(client.Options("slow"), slow);
        var request = client.Send("slow", "think hard");
        Assert.True(generating.Wait(TimeSpan.FromSeconds(10)));

        var watch = Stopwatch.StartNew();
        var stopped = agent.Stop(TimeSpan.FromMilliseconds(300));
        watch.Stop();

        Assert.True(stopped);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"Stop took {watch.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(GryphAgentState.Stopped, agent.State);
        var cancelled = client.Receive();
        Assert.Equal(request.Id, cancelled.ReplyTo);
        Assert.Equal(ChatErrorKind.Cancelled, cancelled.Metadata[GryphAgent.MetaError]);
        agent.Dispose();

        // The inbox was not created by the agent, so it stays; a fresh agent serves it.
        Assert.True(UnixFileStatus.OfPath(inbox) is { IsFifo: true });
        using var fresh = GryphAgent.Start(client.Options("slow"), Echo());
        var next = client.Send("slow", "again");
        var reply = client.Receive();
        Assert.Equal(next.Id, reply.ReplyTo);
        Assert.Equal("#1: again", reply.Content);
    }

    [Fact]
    public void Stop_RemovesTheInboxOnlyWhenTheAgentCreatedIt()
    {
        using var client = new AgentClient();
        var inbox = client.CreateEndpoint("mine");
        var options = client.Options("mine");
        var agent = GryphAgent.Start(new AgentOptions { Name = options.Name, PipeDirectory = options.PipeDirectory, CreatedEndpoint = true }, Echo());
        Assert.True(agent.Stop(TimeSpan.FromSeconds(1)));
        Assert.Null(UnixFileStatus.OfPath(inbox));
        agent.Dispose();
    }

    [Fact]
    public void ServerDown_ThenUp_AnswersWithBackendUnavailable_AndKeepsServing()
    {
        using var client = new AgentClient();
        client.CreateEndpoint("web");
        var port = FakeChatServer.FreePort();
        using var agent = GryphAgent.Start(client.Options("web"), new OpenAIChatBackend(new Uri($"http://127.0.0.1:{port}"), "m"));

        var first = client.Send("web", "anyone there?");
        var error = client.Receive();
        Assert.Equal(first.Id, error.ReplyTo);
        Assert.Equal(ChatErrorKind.BackendUnavailable, error.Metadata[GryphAgent.MetaError]);
        Assert.Equal(string.Empty, error.Content);
        Assert.StartsWith("BackendUnavailable:", agent.LastError, StringComparison.Ordinal);
        Assert.Equal(GryphAgentState.Running, agent.State);

        var second = client.Send("web", "still?");
        var again = client.Receive();
        Assert.Equal(second.Id, again.ReplyTo);
        Assert.Equal(ChatErrorKind.BackendUnavailable, again.Metadata[GryphAgent.MetaError]);
        Assert.Equal(2, agent.MessagesHandled);
        Assert.Equal(2, agent.Errors);
    }

    [Fact]
    public void HttpError_BecomesAnErrorReplyWithTheStatus_AndTheNextMessageIsAnswered()
    {
        using var client = new AgentClient();
        client.CreateEndpoint("web");
        using var server = new FakeChatServer();
        server.Enqueue(500, "application/json", """{"error":{"message":"boom"}}""");
        server.EnqueueStream(["fine"], 5, 1);
        using var agent = GryphAgent.Start(client.Options("web"), new OpenAIChatBackend(server.BaseUri, "m"));

        client.Send("web", "one");
        var error = client.Receive();
        Assert.Equal(ChatErrorKind.HttpError, error.Metadata[GryphAgent.MetaError]);
        Assert.Equal("500", error.Metadata[GryphAgent.MetaHttpStatus]);
        Assert.Contains("boom", error.Metadata[GryphAgent.MetaErrorMessage], StringComparison.Ordinal);

        var request = client.Send("web", "two");
        var reply = client.Receive();
        Assert.Equal(request.Id, reply.ReplyTo);
        Assert.Equal("fine", reply.Content);
        Assert.False(reply.Metadata.ContainsKey(GryphAgent.MetaError));
        // The failed exchange is not remembered: the second request carries only its own message.
        Assert.Equal(1, Meta(reply, GryphAgent.MetaHistoryMessages));
    }

    [Fact]
    public void MissingModelFile_AnswersModelNotFound_AndKeepsServing()
    {
        using var client = new AgentClient();
        client.CreateEndpoint("local");
        var missing = Path.Combine(client.Directory, "absent.gguf");
        var loads = 0;
        using var backend = new DeferredChatBackend(missing, "llama.cpp:absent.gguf", () => { loads++; return Echo(); });
        using var agent = GryphAgent.Start(client.Options("local"), backend);

        for (var i = 0; i < 2; i++)
        {
            var request = client.Send("local", "hello " + i);
            var reply = client.Receive();
            Assert.Equal(request.Id, reply.ReplyTo);
            Assert.Equal(ChatErrorKind.ModelNotFound, reply.Metadata[GryphAgent.MetaError]);
        }

        Assert.Equal(0, loads);
        File.WriteAllText(missing, "now it exists");
        var late = client.Send("local", "and now?");
        var answered = client.Receive();
        Assert.Equal(late.Id, answered.ReplyTo);
        Assert.Equal("#1: and now?", answered.Content);
        Assert.Equal(1, loads);
    }
}

using System.Text.Json;
using Gryphgen.Core.Agents;

namespace Gryphgen.Core.Tests.Agents;

public sealed class OpenAIChatBackendTests
{
    private static readonly ChatTurn[] History =
    [
        new(ChatRole.System, "You are terse."),
        new(ChatRole.User, "Hi"),
        new(ChatRole.Assistant, "Hello."),
        new(ChatRole.User, "Name a colour\nplease"),
    ];

    [Fact]
    public async Task Streaming_SendsTheDocumentedRequest_AndJoinsTheStreamedPieces()
    {
        using var server = new FakeChatServer();
        server.EnqueueStream(["Bl", "ue", " ✓"], promptTokens: 21, completionTokens: 3);
        using var backend = new OpenAIChatBackend(server.BaseUri, "tiny-model", apiKey: "sk-secret");

        var reply = await backend.CompleteAsync(History, CancellationToken.None);

        Assert.Equal("Blue ✓", reply.Content);
        Assert.Equal(21, reply.PromptTokens);
        Assert.Equal(3, reply.CompletionTokens);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer sk-secret", request.Authorization);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal(
            """{"model":"tiny-model","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello."},{"role":"user","content":"Name a colour\nplease"}],"stream":true,"stream_options":{"include_usage":true}}""",
            request.Body);
        Assert.DoesNotContain("sk-secret", backend.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoStream_SendsStreamFalse_AndReadsTheJsonResponse()
    {
        using var server = new FakeChatServer();
        server.Enqueue(200, "application/json",
            """{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Red."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}""");
        using var backend = new OpenAIChatBackend(new Uri(server.BaseUri, "v1"), "m") { Stream = false, MaxTokens = 16 };

        var reply = await backend.CompleteAsync(History[1..2], CancellationToken.None);

        Assert.Equal(new ChatReply("Red.", 9, 2), reply);
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Null(request.Authorization);
        using var body = JsonDocument.Parse(request.Body);
        Assert.False(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal(16, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("stream_options", out _));
    }

    [Theory]
    [InlineData(429, """{"error":{"message":"Rate limit reached","type":"rate_limit"}}""", "Rate limit reached")]
    [InlineData(500, """{"error":{"message":"CUDA out of memory"}}""", "CUDA out of memory")]
    public async Task HttpErrorStatus_IsAnHttpErrorWithTheStatusAndTheServersMessage(int status, string body, string message)
    {
        using var server = new FakeChatServer();
        server.Enqueue(status, "application/json", body);
        using var backend = new OpenAIChatBackend(server.BaseUri, "m");

        var error = await Assert.ThrowsAsync<ChatBackendException>(() => backend.CompleteAsync(History, CancellationToken.None));

        Assert.Equal(ChatErrorKind.HttpError, error.ErrorKind);
        Assert.Equal(status, error.HttpStatus);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerDown_IsBackendUnavailable()
    {
        using var backend = new OpenAIChatBackend(new Uri($"http://127.0.0.1:{FakeChatServer.FreePort()}"), "m");

        var error = await Assert.ThrowsAsync<ChatBackendException>(() => backend.CompleteAsync(History, CancellationToken.None));

        Assert.Equal(ChatErrorKind.BackendUnavailable, error.ErrorKind);
        Assert.Equal("GryphAgentBackendUnavailable", error.ErrorId);
    }

    [Fact]
    public async Task ServerThatHangs_IsATimeoutAfterRequestTimeout()
    {
        using var server = new FakeChatServer();
        server.Enqueue(0, "application/json", "{}");
        using var backend = new OpenAIChatBackend(server.BaseUri, "m") { RequestTimeout = TimeSpan.FromMilliseconds(300) };

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ChatBackendException>(() => backend.CompleteAsync(History, CancellationToken.None));

        Assert.Equal(ChatErrorKind.Timeout, error.ErrorKind);
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.25, 3);
    }

    [Fact]
    public async Task StreamWithoutDone_IsAnInvalidResponse()
    {
        using var server = new FakeChatServer();
        server.Enqueue(200, "text/event-stream", "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n");
        using var backend = new OpenAIChatBackend(server.BaseUri, "m");

        var error = await Assert.ThrowsAsync<ChatBackendException>(() => backend.CompleteAsync(History, CancellationToken.None));

        Assert.Equal(ChatErrorKind.InvalidResponse, error.ErrorKind);
    }

    [Theory]
    [InlineData("http://h:1", "http://h:1/v1/chat/completions")]
    [InlineData("http://h:1/", "http://h:1/v1/chat/completions")]
    [InlineData("http://h:11434/v1", "http://h:11434/v1/chat/completions")]
    [InlineData("http://h:1/v1/", "http://h:1/v1/chat/completions")]
    [InlineData("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions")]
    public void CompletionsUri_AcceptsTheBaseWithOrWithoutV1(string baseUri, string expected) =>
        Assert.Equal(expected, OpenAIChatBackend.CompletionsUriFor(new Uri(baseUri)).ToString());
}

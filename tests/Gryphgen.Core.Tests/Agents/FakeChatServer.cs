using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gryphgen.Core.Tests.Agents;

/// <summary>A recorded request to the fake chat-completions server.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? Authorization, string? ContentType, string Body);

/// <summary>
/// A tiny OpenAI-compatible server on 127.0.0.1 and a free port: each request gets the next scripted response
/// (status, content type, body) and is recorded byte for byte, so tests can check exactly what was sent.
/// </summary>
internal sealed class FakeChatServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(int Status, string ContentType, string Body)> _responses = new();
    private readonly Task _loop;

    public FakeChatServer()
    {
        Port = FreePort();
        BaseUri = new Uri($"http://127.0.0.1:{Port}/");
        _listener.Prefixes.Add(BaseUri.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Uri BaseUri { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Enqueue(int status, string contentType, string body) => _responses.Enqueue((status, contentType, body));

    /// <summary>A streamed reply in the documented SSE shape: role chunk, content chunks, finish, usage chunk, [DONE].</summary>
    public void EnqueueStream(string[] pieces, int promptTokens, int completionTokens)
    {
        var sse = new StringBuilder();
        sse.Append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n");
        foreach (var piece in pieces)
        {
            sse.Append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":")
                .Append(System.Text.Json.JsonSerializer.Serialize(piece)).Append("},\"finish_reason\":null}]}\n\n");
        }

        sse.Append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        sse.Append(System.Globalization.CultureInfo.InvariantCulture, $"data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{promptTokens},\"completion_tokens\":{completionTokens},\"total_tokens\":{promptTokens + completionTokens}}}}}\n\n");
        sse.Append("data: [DONE]\n\n");
        Enqueue(200, "text/event-stream", sse.ToString());
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync().ConfigureAwait(false);
            Requests.Enqueue(new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath,
                context.Request.Headers["Authorization"], context.Request.ContentType, body));
            var (status, contentType, responseBody) = _responses.TryDequeue(out var r) ? r : (500, "application/json", "{\"error\":{\"message\":\"no scripted response\"}}");
            if (status == 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1.5)).ConfigureAwait(false); // a server that hangs past the timeout
                status = 200;
            }
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            var bytes = Encoding.UTF8.GetBytes(responseBody);
            try
            {
                await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
                context.Response.Close();
            }
            catch (HttpListenerException)
            {
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Gryphgen.Core.Agents;

/// <summary>
/// A backend that calls Ollama's own chat API (POST /api/chat, one JSON answer) with a plan's settings as request
/// options (num_gpu = layers on the GPU, num_ctx = context), which Ollama's OpenAI-compatible /v1 endpoint does
/// not take. Written over HttpClient and System.Text.Json rather than OllamaSharp: OllamaSharp 5.5 on net8.0 brings
/// Microsoft.Extensions.AI 10, System.Text.Json 10 and Microsoft.Extensions.Logging.Abstractions 10 into the
/// module's load context, where the last clashes with the 6.0 one NATS.Client loads beside it, all for one request.
/// </summary>
public sealed class OllamaChatBackend : IChatBackend
{
    private readonly HttpClient _http;

    public OllamaChatBackend(Uri baseUri, string model, IReadOnlyDictionary<string, int> options)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(options);
        BaseUri = baseUri;
        Model = model;
        Options = options;
        ChatUri = new Uri(baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/api/chat");
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Ollama's default address, or $env:OLLAMA_HOST as Ollama's own client reads it (host:port or a URL).</summary>
    public static Uri DefaultBaseUri
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("OLLAMA_HOST");
            if (string.IsNullOrWhiteSpace(host))
            {
                return new Uri("http://127.0.0.1:11434/");
            }

            host = host.Trim();
            if (!host.Contains("://", StringComparison.Ordinal))
            {
                host = "http://" + host;
            }

            var uri = new Uri(host);
            return uri.IsDefaultPort && !host.Contains(":" + uri.Port, StringComparison.Ordinal) ? new UriBuilder(uri) { Port = 11434 }.Uri : uri;
        }
    }

    public Uri BaseUri { get; }

    public Uri ChatUri { get; }

    public string Model { get; }

    /// <summary>Sent as "options" with every request, e.g. num_gpu and num_ctx.</summary>
    public IReadOnlyDictionary<string, int> Options { get; }

    /// <summary>Sent as options.num_predict when set.</summary>
    public int? MaxTokens { get; init; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(300);

    public string Description => $"ollama:{Model} @ {BaseUri}" + (Options.Count > 0 ? $" ({string.Join(' ', Options.Select(o => o.Key + "=" + o.Value))})" : string.Empty);

    /// <summary>The JSON body: model, messages, stream false, and options.</summary>
    public byte[] BuildRequestBody(IReadOnlyList<ChatTurn> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", Model);
            ChatMessagesJson.Write(json, history);
            json.WriteBoolean("stream", false);
            json.WriteStartObject("options");
            foreach (var (key, value) in Options)
            {
                json.WriteNumber(key, value);
            }

            if (MaxTokens is { } max)
            {
                json.WriteNumber("num_predict", max);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public async Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatUri) { Content = new ByteArrayContent(BuildRequestBody(history)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var detail = ErrorOf(body);
                var kind = response.StatusCode == HttpStatusCode.NotFound ? ChatErrorKind.ModelNotFound : ChatErrorKind.HttpError;
                throw new ChatBackendException(kind, $"{ChatUri} answered {(int)response.StatusCode} {response.StatusCode}{(detail.Length > 0 ? ": " + detail : string.Empty)}", (int)response.StatusCode);
            }

            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (ErrorOf(root) is { Length: > 0 } error)
            {
                throw new ChatBackendException(ChatErrorKind.HttpError, $"Ollama reported an error: {error}");
            }

            var content = root.GetProperty("message").GetProperty("content").GetString() ?? string.Empty;
            int? prompt = root.TryGetProperty("prompt_eval_count", out var p) && p.TryGetInt32(out var pv) ? pv : null;
            int? completion = root.TryGetProperty("eval_count", out var c) && c.TryGetInt32(out var cv) ? cv : null;
            return new ChatReply(content, prompt, completion);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChatBackendException(ChatErrorKind.Timeout, $"{ChatUri} did not answer within {RequestTimeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            var why = ex.InnerException is SocketException socket ? socket.Message : ex.Message;
            throw new ChatBackendException(ChatErrorKind.BackendUnavailable, $"Cannot reach Ollama at {ChatUri}: {why} (is 'ollama serve' running?)", null, ex);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ChatBackendException(ChatErrorKind.InvalidResponse, $"{ChatUri} sent an answer that is not Ollama chat JSON: {ex.Message}", null, ex);
        }
    }

    private static string ErrorOf(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return ErrorOf(document.RootElement);
        }
        catch (JsonException)
        {
            var trimmed = body.Trim();
            return trimmed.Length > 200 ? trimmed[..200] + "..." : trimmed;
        }
    }

    private static string ErrorOf(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
            ? error.GetString() ?? string.Empty
            : string.Empty;

    public void Dispose() => _http.Dispose();
}

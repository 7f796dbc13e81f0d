using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Gryphgen.Core.Agents;

/// <summary>
/// A backend that calls an OpenAI-compatible POST /v1/chat/completions (llama-server, Ollama's /v1, LM Studio,
/// vLLM). With <see cref="Stream"/> it reads the server-sent events ("data: {chunk}" lines until
/// "data: [DONE]") and asks for usage in the last chunk. The API key goes only into the Authorization header;
/// it is never part of <see cref="Description"/>, the log or an error message.
/// </summary>
public sealed class OpenAIChatBackend : IChatBackend
{
    private readonly HttpClient _http;
    private readonly string? _apiKey;

    public OpenAIChatBackend(Uri baseUri, string model, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        ArgumentException.ThrowIfNullOrEmpty(model);
        BaseUri = baseUri;
        Model = model;
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        CompletionsUri = CompletionsUriFor(baseUri);
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri BaseUri { get; }

    public Uri CompletionsUri { get; }

    public string Model { get; }

    /// <summary>Ask for a server-sent-event stream (the default) rather than one JSON response.</summary>
    public bool Stream { get; init; } = true;

    /// <summary>Bounds one whole request, from connecting to the last token.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Sent as max_tokens when set.</summary>
    public int? MaxTokens { get; init; }

    public string Description => $"openai:{Model} @ {BaseUri}";

    /// <summary>http://host:port and http://host:port/ get /v1/chat/completions; a URI that already ends in /v1 gets /chat/completions.</summary>
    public static Uri CompletionsUriFor(Uri baseUri)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        var text = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (text.EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
        {
            return new Uri(text);
        }

        return new Uri(text.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) ? text + "/chat/completions" : text + "/v1/chat/completions");
    }

    /// <summary>The JSON body: model, messages (role, content), stream, and stream_options.include_usage / max_tokens when they apply.</summary>
    public byte[] BuildRequestBody(IReadOnlyList<ChatTurn> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", Model);
            ChatMessagesJson.Write(json, history);
            json.WriteBoolean("stream", Stream);
            if (Stream)
            {
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            if (MaxTokens is { } max)
            {
                json.WriteNumber("max_tokens", max);
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public async Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, CompletionsUri)
        {
            Content = new ByteArrayContent(BuildRequestBody(history)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Stream ? "text/event-stream" : "application/json"));
        if (_apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                throw HttpFailure(response.StatusCode, body);
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType;
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            return Stream && !string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase)
                ? await ReadEventStreamAsync(stream, timeout.Token).ConfigureAwait(false)
                : await ReadJsonAsync(stream, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChatBackendException(ChatErrorKind.Timeout, $"{CompletionsUri} did not answer within {RequestTimeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw new ChatBackendException(ChatErrorKind.BackendUnavailable, $"Cannot reach {CompletionsUri}: {Describe(ex)}", null, ex);
        }
        catch (JsonException ex)
        {
            throw new ChatBackendException(ChatErrorKind.InvalidResponse, $"{CompletionsUri} sent a response that is not chat-completions JSON: {ex.Message}", null, ex);
        }
    }

    private ChatBackendException HttpFailure(HttpStatusCode status, string body)
    {
        var detail = ErrorMessageFrom(body);
        var kind = status == HttpStatusCode.NotFound && detail.Contains("model", StringComparison.OrdinalIgnoreCase)
            ? ChatErrorKind.ModelNotFound
            : ChatErrorKind.HttpError;
        return new ChatBackendException(kind, $"{CompletionsUri} answered {(int)status} {status}{(detail.Length > 0 ? ": " + detail : string.Empty)}", (int)status);
    }

    private static string ErrorMessageFrom(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString() ?? string.Empty;
                }

                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message))
                {
                    return message.GetString() ?? string.Empty;
                }
            }
        }
        catch (JsonException)
        {
        }

        var trimmed = body.Trim();
        return trimmed.Length > 200 ? trimmed[..200] + "..." : trimmed;
    }

    private static string Describe(HttpRequestException ex) =>
        ex.InnerException is SocketException socket ? socket.Message : ex.Message;

    private static async Task<ChatReply> ReadEventStreamAsync(Stream stream, CancellationToken token)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var content = new StringBuilder();
        int? prompt = null, completion = null;
        var done = false;
        while (!done && await reader.ReadLineAsync(token).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue; // blank separators, comments (":"), event: and id: fields
            }

            var data = line.AsSpan(5).Trim();
            if (data.SequenceEqual("[DONE]"))
            {
                done = true;
                continue;
            }

            using var chunk = JsonDocument.Parse(data.ToString());
            ThrowIfError(chunk.RootElement);
            if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String)
                    {
                        content.Append(piece.GetString());
                    }
                }
            }

            ReadUsage(chunk.RootElement, ref prompt, ref completion);
        }

        if (!done)
        {
            throw new ChatBackendException(ChatErrorKind.InvalidResponse, "The event stream ended without data: [DONE].");
        }

        return new ChatReply(content.ToString(), prompt, completion);
    }

    private static async Task<ChatReply> ReadJsonAsync(Stream stream, CancellationToken token)
    {
        using var document = await JsonDocument.ParseAsync(stream, default, token).ConfigureAwait(false);
        var root = document.RootElement;
        ThrowIfError(root);
        var content = root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? string.Empty;
        int? prompt = null, completion = null;
        ReadUsage(root, ref prompt, ref completion);
        return new ChatReply(content, prompt, completion);
    }

    private static void ThrowIfError(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.GetString() : error.ToString();
            throw new ChatBackendException(ChatErrorKind.HttpError, $"The server reported an error mid-stream: {message}");
        }
    }

    private static void ReadUsage(JsonElement root, ref int? prompt, ref int? completion)
    {
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            if (usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out var pv))
            {
                prompt = pv;
            }

            if (usage.TryGetProperty("completion_tokens", out var c) && c.TryGetInt32(out var cv))
            {
                completion = cv;
            }
        }
    }

    public void Dispose() => _http.Dispose();
}

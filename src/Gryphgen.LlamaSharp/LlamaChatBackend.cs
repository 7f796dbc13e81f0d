using System.Globalization;
using System.Text;
using Gryphgen.Core.Agents;
using LLama;
using LLama.Common;
using LLama.Sampling;

namespace Gryphgen.LlamaSharp;

/// <summary>
/// Answers with a GGUF model loaded in-process by llama.cpp (LLamaSharp). The prompt is built with the chat
/// template stored in the file (tokenizer.chat_template, applied by llama.cpp); a file without one gets a plain
/// "System:/User:/Assistant:" transcript. Each reply is bounded by <see cref="LocalModelOptions.MaxTokens"/>
/// and stops promptly when its cancellation token fires (checked between tokens).
/// </summary>
public sealed class LlamaChatBackend : IChatBackend
{
    private const string ChatTemplateKey = "tokenizer.chat_template";
    private static readonly string[] FallbackStops = ["\nUser:", "\nSystem:"];
    private readonly LocalModelOptions _options;
    private readonly ModelParams _parameters;
    private readonly LLamaWeights _weights;

    // llama.cpp logs every load step to stderr; the agent has its own log, so llama.cpp's stays quiet.
    // The delegate is kept in a static field so the native side never calls a collected one.
    private static readonly LLama.Native.NativeLogConfig.LLamaLogCallback QuietLog = (_, _) => { };
    private static readonly object LogGate = new();
    private static bool _logSilenced;

    public LlamaChatBackend(LocalModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (LogGate)
        {
            if (!_logSilenced)
            {
                LLama.Native.NativeLogConfig.llama_log_set(QuietLog);
                _logSilenced = true;
            }
        }

        _options = options;
        _parameters = new ModelParams(options.ModelPath)
        {
            ContextSize = (uint)Math.Max(64, options.ContextLength),
            GpuLayerCount = options.GpuLayerCount,
        };
        _weights = LLamaWeights.LoadFromFile(_parameters);
        HasChatTemplate = _weights.Metadata.ContainsKey(ChatTemplateKey);
    }

    /// <summary>Entry point the module calls by reflection across the load-context boundary.</summary>
    public static IChatBackend Create(LocalModelOptions options) => new LlamaChatBackend(options);

    /// <summary>True when the file has a chat template; false means the plain fallback transcript is used.</summary>
    public bool HasChatTemplate { get; }

    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"llama.cpp:{Path.GetFileName(_options.ModelPath)} (gpu layers {_options.GpuLayerCount}, context {_parameters.ContextSize}{(HasChatTemplate ? string.Empty : ", fallback template")})");

    /// <summary>The prompt text for <paramref name="history"/>, ending where the assistant's answer starts.</summary>
    public string FormatPrompt(IReadOnlyList<ChatTurn> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (HasChatTemplate)
        {
            var template = new LLamaTemplate(_weights) { AddAssistant = true };
            foreach (var turn in history)
            {
                template.Add(turn.RoleName, turn.Content);
            }

            return Encoding.UTF8.GetString(template.Apply());
        }

        var text = new StringBuilder();
        foreach (var turn in history)
        {
            text.Append(turn.Role switch { ChatRole.System => "System: ", ChatRole.Assistant => "Assistant: ", _ => "User: " })
                .Append(turn.Content).Append('\n');
        }

        return text.Append("Assistant:").ToString();
    }

    public async Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        var prompt = FormatPrompt(history);
        var promptTokens = _weights.Tokenize(prompt, true, true, Encoding.UTF8).Length;
        var executor = new StatelessExecutor(_weights, _parameters);
        var inference = new InferenceParams
        {
            MaxTokens = _options.MaxTokens,
            AntiPrompts = HasChatTemplate ? [] : FallbackStops,
            SamplingPipeline = new DefaultSamplingPipeline { Temperature = _options.Temperature, Seed = 42 },
        };
        var reply = new StringBuilder();
        var completionTokens = 0;
        await foreach (var piece in executor.InferAsync(prompt, inference, cancellationToken).ConfigureAwait(false))
        {
            reply.Append(piece);
            completionTokens++;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var content = reply.ToString();
        foreach (var stop in FallbackStops)
        {
            if (!HasChatTemplate && content.EndsWith(stop, StringComparison.Ordinal))
            {
                content = content[..^stop.Length];
            }
        }

        return new ChatReply(content.Trim(), promptTokens, completionTokens);
    }

    public void Dispose() => _weights.Dispose();
}

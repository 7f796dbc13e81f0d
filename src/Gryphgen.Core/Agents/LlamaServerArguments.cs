using System.Globalization;

namespace Gryphgen.Core.Agents;

/// <summary>
/// The llama-server arguments for a model: <c>-m &lt;model&gt;</c>, then a plan's LlamaCppArguments word for word
/// (its -ngl and -c replaced when the user gave others), or -ngl/-c alone without a plan, then the pass-through
/// arguments. <see cref="LlamaServerProcess"/> appends --host and --port.
/// </summary>
public static class LlamaServerArguments
{
    public static IReadOnlyList<string> Build(string modelPath, string? planArguments, int? gpuLayers, int? contextLength, IEnumerable<string>? passThrough)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var arguments = new List<string> { "-m", modelPath };
        if (planArguments is not null)
        {
            var words = CommandLineWords.Split(planArguments).ToList();
            Replace(words, "-ngl", gpuLayers);
            Replace(words, "-c", contextLength);
            arguments.AddRange(words);
        }
        else
        {
            Replace(arguments, "-ngl", gpuLayers);
            Replace(arguments, "-c", contextLength);
        }

        arguments.AddRange(passThrough ?? []);
        return arguments;
    }

    /// <summary>Sets <paramref name="option"/>'s value in <paramref name="words"/> (appending the option when absent); nothing when <paramref name="value"/> is null.</summary>
    private static void Replace(List<string> words, string option, int? value)
    {
        if (value is null)
        {
            return;
        }

        var text = value.Value.ToString(CultureInfo.InvariantCulture);
        var at = words.IndexOf(option);
        if (at >= 0 && at + 1 < words.Count)
        {
            words[at + 1] = text;
        }
        else
        {
            words.AddRange([option, text]);
        }
    }
}

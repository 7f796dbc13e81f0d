using System.Text;

namespace Gryphgen.Core.Agents;

/// <summary>
/// Splits a command line as a POSIX shell splits words, for the quoting Gryphgen itself writes (ModelFit's
/// LlamaCppArguments quotes a draft model's path with double quotes): whitespace separates, '...' and "..." keep
/// spaces, a backslash escapes the next character outside single quotes. Nothing is expanded or run.
/// </summary>
public static class CommandLineWords
{
    public static IReadOnlyList<string> Split(string? line)
    {
        var words = new List<string>();
        if (string.IsNullOrWhiteSpace(line))
        {
            return words;
        }

        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote == '\'')
            {
                if (c == '\'')
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }

                continue;
            }

            if (c == '\\' && i + 1 < line.Length && (quote == '\0' || line[i + 1] is '"' or '\\'))
            {
                word.Append(line[++i]);
                inWord = true;
                continue;
            }

            if (quote == '"')
            {
                if (c == '"')
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }

                continue;
            }

            if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (quote != '\0')
        {
            throw new GryphgenException("CommandLineUnbalancedQuote", GryphgenErrorKind.InvalidArgument, $"The arguments '{line}' have an unbalanced {quote} quote.");
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}

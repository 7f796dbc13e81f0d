using System.Text;
using System.Text.RegularExpressions;
using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Bus;

/// <summary>
/// How endpoint names map onto NATS: endpoint E in namespace N is the subject gryph.N.E, kept by the JetStream
/// stream GRYPH_N_E (stream names cannot hold '.', so '_' and '.' are escaped and distinct endpoints never share a
/// stream), read through the durable consumer "inbox".
/// </summary>
public static partial class BusNames
{
    public const string SubjectRoot = "gryph";
    public const string StreamPrefix = "GRYPH_";
    public const string InboxConsumer = "inbox";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
    private static partial Regex NamespacePattern();

    public static bool IsValidNamespace(string name) => NamespacePattern().IsMatch(name);

    public static void ValidateNamespace(string name)
    {
        if (!IsValidNamespace(name))
        {
            throw new GryphgenException("GryphBusNamespaceInvalid", GryphgenErrorKind.InvalidArgument,
                $"'{name}' is not a valid bus namespace: use letters, digits and '-', starting with a letter or digit (at most 64).", name);
        }
    }

    public static string Subject(string ns, string endpoint)
    {
        PipeDirectory.ValidateEndpointName(endpoint);
        return $"{SubjectRoot}.{ns}.{endpoint}";
    }

    public static string Stream(string ns, string endpoint)
    {
        PipeDirectory.ValidateEndpointName(endpoint);
        return StreamPrefixOf(ns) + Escape(endpoint);
    }

    public static string StreamPrefixOf(string ns) => StreamPrefix + ns + "_";

    /// <summary>The endpoint a stream of namespace <paramref name="ns"/> keeps; null for other streams.</summary>
    public static string? EndpointOfStream(string ns, string stream)
    {
        var prefix = StreamPrefixOf(ns);
        return stream.StartsWith(prefix, StringComparison.Ordinal) ? Unescape(stream[prefix.Length..]) : null;
    }

    private static string Escape(string endpoint)
    {
        var builder = new StringBuilder(endpoint.Length + 4);
        foreach (var c in endpoint)
        {
            builder.Append(c switch
            {
                '_' => "__",
                '.' => "_d",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    private static string? Unescape(string escaped)
    {
        var builder = new StringBuilder(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] != '_')
            {
                builder.Append(escaped[i]);
                continue;
            }

            if (i + 1 >= escaped.Length)
            {
                return null;
            }

            i++;
            if (escaped[i] == '_')
            {
                builder.Append('_');
            }
            else if (escaped[i] == 'd')
            {
                builder.Append('.');
            }
            else
            {
                return null;
            }
        }

        return builder.ToString();
    }
}

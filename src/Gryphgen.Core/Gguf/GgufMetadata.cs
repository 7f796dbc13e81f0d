using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Gryphgen.Core.Gguf;

/// <summary>The key-value pairs of a GGUF header, in file order, with lookup by key.</summary>
[SuppressMessage("Naming", "CA1710", Justification = "Named after the GGUF section it holds.")]
public sealed class GgufMetadata : IReadOnlyDictionary<string, GgufValue>
{
    private readonly List<KeyValuePair<string, GgufValue>> _entries;
    private readonly Dictionary<string, GgufValue> _byKey;

    internal GgufMetadata(int capacity)
    {
        _entries = new List<KeyValuePair<string, GgufValue>>(capacity);
        _byKey = new Dictionary<string, GgufValue>(capacity, StringComparer.Ordinal);
    }

    public int Count => _entries.Count;

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<GgufValue> Values => _entries.Select(e => e.Value);

    public GgufValue this[string key] => _byKey[key];

    internal bool TryAdd(string key, GgufValue value)
    {
        if (!_byKey.TryAdd(key, value))
        {
            return false;
        }

        _entries.Add(new(key, value));
        return true;
    }

    public bool ContainsKey(string key) => _byKey.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out GgufValue value) => _byKey.TryGetValue(key, out value);

    public string? GetString(string key) => _byKey.TryGetValue(key, out var v) ? v.AsString() : null;

    public long? GetInt64(string key) => _byKey.TryGetValue(key, out var v) ? v.AsInt64() : null;

    public int? GetInt32(string key) => _byKey.TryGetValue(key, out var v) ? v.AsInt32() : null;

    public GgufArray? GetArray(string key) => _byKey.TryGetValue(key, out var v) ? v.AsArray() : null;

    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

using System.Text.Json;

namespace Gryphgen.Core.Agents;

/// <summary>The "messages" array every chat API takes (OpenAI's and Ollama's alike): one role and content per turn.</summary>
internal static class ChatMessagesJson
{
    public static void Write(Utf8JsonWriter json, IReadOnlyList<ChatTurn> history)
    {
        json.WriteStartArray("messages");
        foreach (var turn in history)
        {
            json.WriteStartObject();
            json.WriteString("role", turn.RoleName);
            json.WriteString("content", turn.Content);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}

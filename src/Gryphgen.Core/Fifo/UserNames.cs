namespace Gryphgen.Core.Fifo;

/// <summary>User names for numeric ids, read from /etc/passwd (no NSS call needed for local users).</summary>
public static class UserNames
{
    private static readonly Lazy<Dictionary<uint, string>> Names = new(ReadPasswd);

    public static string Describe(uint uid) => Names.Value.TryGetValue(uid, out var name) ? name : uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Dictionary<uint, string> ReadPasswd()
    {
        var names = new Dictionary<uint, string>();
        try
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var fields = line.Split(':');
                if (fields.Length > 2 && uint.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var uid))
                {
                    names.TryAdd(uid, fields[0]);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return names;
    }
}

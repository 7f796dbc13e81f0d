namespace Gryphgen.Core.Gguf;

/// <summary>What is wrong with a file that is not a readable GGUF header.</summary>
public enum GgufFormatError
{
    /// <summary>The header contradicts itself or the format: bad type, impossible count, bad alignment.</summary>
    InvalidFormat,

    /// <summary>The header (or the data its tensor table promises) runs past the end of the file.</summary>
    Truncated,

    /// <summary>The file does not start with the GGUF magic.</summary>
    NotGguf,
}

/// <summary>
/// The only exception the GGUF reader throws for bad data. The message names the file and the byte offset
/// where reading went wrong, so a corrupt download can be told apart from an unsupported feature.
/// </summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException()
    {
        Path = string.Empty;
    }

    public GgufFormatException(string message)
        : base(message)
    {
        Path = string.Empty;
    }

    public GgufFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = string.Empty;
    }

    public GgufFormatException(GgufFormatError error, string path, long offset, string reason)
        : base(error == GgufFormatError.Truncated
            ? $"{path} is truncated (an interrupted download or copy?): {reason} (at byte {offset})."
            : $"{path}: {reason} (at byte {offset}).")
    {
        Error = error;
        Path = path;
        Offset = offset;
    }

    public GgufFormatError Error { get; }

    /// <summary>The file (or in-memory source name) that was being read.</summary>
    public string Path { get; }

    /// <summary>Byte offset in the file where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>A stable id for PowerShell error records: GgufInvalidFormat, GgufTruncated or GgufNotGguf.</summary>
    public string ErrorId => Error switch
    {
        GgufFormatError.Truncated => "GgufTruncated",
        GgufFormatError.NotGguf => "GgufNotGguf",
        _ => "GgufInvalidFormat",
    };
}

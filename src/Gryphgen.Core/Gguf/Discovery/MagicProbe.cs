namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>
/// Reads the first four bytes of a file to see whether it is GGUF, without ever blocking: only regular files are
/// opened (<see cref="RegularFile"/>), so a FIFO met while walking a folder (Gryphgen's own pipes, say) or a
/// device is refused with a <see cref="GgufFormatException"/> instead of waiting forever for a writer.
/// </summary>
internal static class MagicProbe
{
    public static bool HasGgufMagic(string path) => GgufHeaderReader.HasMagic(path);
}

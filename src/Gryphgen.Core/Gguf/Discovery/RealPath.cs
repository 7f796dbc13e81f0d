using System.Runtime.InteropServices;

namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>
/// The canonical path of a file: every symlink in it resolved (libc realpath on Unix). Two paths to one file give
/// the same real path, which is how a model reached through several symlinks is listed once and how a symlink
/// loop is noticed.
/// </summary>
internal static partial class RealPath
{
    /// <summary>The real path, or null when it cannot be resolved (a dangling link, a link loop, no permission).</summary>
    public static string? Resolve(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                var info = new FileInfo(path);
                var target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true);
                return target is { Exists: true } || Directory.Exists(target?.FullName) ? Path.GetFullPath(target!.FullName) : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }

        var resolved = NativeRealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            NativeFree(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr NativeRealPath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void NativeFree(IntPtr pointer);
}

using Gryphgen.Core.Native;
namespace Gryphgen.Core.Fifo;

internal static class FifoErrors
{
    public static GryphgenException OpenFailed(string path, int errno) => errno switch
    {
        LibC.ELOOP => new GryphgenException("GryphPipeIsSymlink", GryphgenErrorKind.PermissionDenied,
            $"'{path}' is a symbolic link where a pipe should be; Gryphgen never follows it.", path),
        LibC.ENOENT or LibC.ENOTDIR => new GryphgenException("GryphPipeNotFound", GryphgenErrorKind.NotFound,
            $"No pipe at '{path}'. Create it with New-GryphPipe.", path),
        LibC.EACCES => new GryphgenException("GryphPipeAccessDenied", GryphgenErrorKind.PermissionDenied,
            $"Permission denied opening '{path}'.", path),
        _ => new GryphgenException("GryphPipeOpenFailed", GryphgenErrorKind.InvalidData,
            $"Opening '{path}' failed: {LibC.Describe(errno)}.", path),
    };
}

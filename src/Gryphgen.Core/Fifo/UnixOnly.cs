namespace Gryphgen.Core.Fifo;

internal static class UnixOnly
{
    public static GryphgenException NotSupported() =>
        new("GryphPipeUnsupportedPlatform", GryphgenErrorKind.ResourceUnavailable, "Named pipes (FIFOs) need Linux or another Unix.");
}

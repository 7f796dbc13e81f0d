namespace Gryphgen.Core.Gpu;

/// <summary>A GPU tool (nvidia-smi, amd-smi, rocm-smi) failed, timed out, or printed what cannot be parsed.</summary>
public sealed class GpuToolException : Exception
{
    public GpuToolException()
    {
    }

    public GpuToolException(string message)
        : base(message)
    {
    }

    public GpuToolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Gryphgen.Core.Gpu.Nvml;

/// <summary>NVML answered GPU_IS_LOST: the GPU fell off the bus. Caught per device, never by the caller.</summary>
internal sealed class NvmlGpuLostException : Exception
{
    public NvmlGpuLostException()
        : base("The GPU is lost (NVML_ERROR_GPU_IS_LOST): it stopped answering; check dmesg for Xid errors and reset or reboot.")
    {
    }

    public NvmlGpuLostException(string message)
        : base(message)
    {
    }

    public NvmlGpuLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

using System.Runtime.InteropServices;

namespace Gryphgen.Core.Gpu.Nvml;

// Layouts follow nvml.h; NvmlMarshallingTests asserts every size and offset.

/// <summary>nvmlMemory_t (v1): total, free, used in bytes. 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlMemoryV1
{
    public ulong Total;
    public ulong Free;
    public ulong Used;
}

/// <summary>nvmlMemory_v2_t: adds the version tag and driver-reserved memory. 40 bytes (version at 0, total at 8).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlMemoryV2
{
    /// <summary>NVML_STRUCT_VERSION(Memory, 2) = sizeof(nvmlMemory_v2_t) | 2 &lt;&lt; 24.</summary>
    public const uint Version2 = 40u | (2u << 24);

    public uint Version;
    public ulong Total;
    public ulong Reserved;
    public ulong Free;
    public ulong Used;
}

/// <summary>nvmlProcessInfo_t as used by the _v2 and _v3 process queries: 24 bytes, offsets 0/8/16/20.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlProcessInfo
{
    public uint Pid;

    /// <summary>Bytes, or NVML_VALUE_NOT_AVAILABLE (all ones) on Windows WDDM.</summary>
    public ulong UsedGpuMemory;
    public uint GpuInstanceId;
    public uint ComputeInstanceId;
}

/// <summary>nvmlProcessInfo_v1_t for the unversioned process query: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlProcessInfoV1
{
    public uint Pid;
    public ulong UsedGpuMemory;
}

/// <summary>nvmlUtilization_t: percent of the last sample period. 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlUtilization
{
    public uint Gpu;
    public uint Memory;
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Gryphgen.Core.Gpu.Nvml;

namespace Gryphgen.Core.Tests.Gpu;

/// <summary>The managed structs must match nvml.h byte for byte, or NVML writes over the wrong fields.</summary>
public sealed class NvmlMarshallingTests
{
    [Fact]
    public void MemoryV2_Is40BytesWithVersion0x02000028()
    {
        Assert.Equal(40, Marshal.SizeOf<NvmlMemoryV2>());
        Assert.Equal(40, Unsafe.SizeOf<NvmlMemoryV2>());
        Assert.Equal(0x02000028u, NvmlMemoryV2.Version2);
        var computed = (uint)Marshal.SizeOf<NvmlMemoryV2>() | (2u << 24);
        Assert.Equal(NvmlMemoryV2.Version2, computed);
        Assert.Equal(0, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Version)));
        Assert.Equal(8, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Total)));
        Assert.Equal(16, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Reserved)));
        Assert.Equal(24, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Free)));
        Assert.Equal(32, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Used)));
    }

    [Fact]
    public void MemoryV1_Is24BytesTotalFreeUsed()
    {
        Assert.Equal(24, Marshal.SizeOf<NvmlMemoryV1>());
        Assert.Equal(24, Unsafe.SizeOf<NvmlMemoryV1>());
        Assert.Equal(0, Offset<NvmlMemoryV1>(nameof(NvmlMemoryV1.Total)));
        Assert.Equal(8, Offset<NvmlMemoryV1>(nameof(NvmlMemoryV1.Free)));
        Assert.Equal(16, Offset<NvmlMemoryV1>(nameof(NvmlMemoryV1.Used)));
    }

    [Fact]
    public void ProcessInfoV3_Is24BytesWithOffsets0_8_16_20()
    {
        Assert.Equal(24, Marshal.SizeOf<NvmlProcessInfo>());
        Assert.Equal(24, Unsafe.SizeOf<NvmlProcessInfo>());
        Assert.Equal(0, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.Pid)));
        Assert.Equal(8, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.UsedGpuMemory)));
        Assert.Equal(16, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.GpuInstanceId)));
        Assert.Equal(20, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.ComputeInstanceId)));
    }

    [Fact]
    public void ProcessInfoV1_Is16BytesWithOffsets0_8()
    {
        Assert.Equal(16, Marshal.SizeOf<NvmlProcessInfoV1>());
        Assert.Equal(16, Unsafe.SizeOf<NvmlProcessInfoV1>());
        Assert.Equal(0, Offset<NvmlProcessInfoV1>(nameof(NvmlProcessInfoV1.Pid)));
        Assert.Equal(8, Offset<NvmlProcessInfoV1>(nameof(NvmlProcessInfoV1.UsedGpuMemory)));
    }

    [Fact]
    public void Utilization_Is8Bytes()
    {
        Assert.Equal(8, Marshal.SizeOf<NvmlUtilization>());
        Assert.Equal(4, Offset<NvmlUtilization>(nameof(NvmlUtilization.Memory)));
    }

    [Fact]
    public void ReturnCodes_MatchNvmlH()
    {
        Assert.Equal(3, (int)NvmlReturn.NotSupported);
        Assert.Equal(4, (int)NvmlReturn.NoPermission);
        Assert.Equal(7, (int)NvmlReturn.InsufficientSize);
        Assert.Equal(13, (int)NvmlReturn.FunctionNotFound);
        Assert.Equal(15, (int)NvmlReturn.GpuIsLost);
        Assert.Equal(25, (int)NvmlReturn.ArgumentVersionMismatch);
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}

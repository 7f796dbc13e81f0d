using Gryphgen.Core.Gpu;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

/// <summary>Checks every scalar reading of a parsed GPU at once, so no number goes unchecked.</summary>
internal static class GpuAssert
{
    public static void Readings(
        GpuStatus gpu,
        int index,
        string? name,
        string? uuid,
        long? totalMiB,
        long? usedMiB,
        long? freeMiB,
        long? reservedMiB,
        int? utilGpu,
        int? utilMemory,
        int? temperature,
        double? power,
        double? powerLimit,
        int? fan,
        int? clockSm,
        int? clockMemory,
        string? pstate,
        string? driver,
        string? cuda = null)
    {
        Assert.Equal(index, gpu.Index);
        Assert.Equal(name, gpu.Name);
        Assert.Equal(uuid, gpu.Uuid);
        Assert.Equal(totalMiB * MiB, gpu.MemoryTotal);
        Assert.Equal(usedMiB * MiB, gpu.MemoryUsed);
        Assert.Equal(freeMiB * MiB, gpu.MemoryFree);
        Assert.Equal(reservedMiB * MiB, gpu.MemoryReserved);
        Assert.Equal(utilGpu, gpu.UtilizationGpu);
        Assert.Equal(utilMemory, gpu.UtilizationMemory);
        Assert.Equal(temperature, gpu.TemperatureC);
        Assert.Equal(power, gpu.PowerDrawW);
        Assert.Equal(powerLimit, gpu.PowerLimitW);
        Assert.Equal(fan, gpu.FanPercent);
        Assert.Equal(clockSm, gpu.ClockSmMHz);
        Assert.Equal(clockMemory, gpu.ClockMemoryMHz);
        Assert.Equal(pstate, gpu.PerformanceState);
        Assert.Equal(driver, gpu.DriverVersion);
        Assert.Equal(cuda, gpu.CudaVersion);
        Assert.False(gpu.IsLost);
    }
}

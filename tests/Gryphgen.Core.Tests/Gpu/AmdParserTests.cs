using Gryphgen.Core.Gpu;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

public sealed class AmdParserTests
{
    [SkippableFact]
    public void AmdSmi_TopLevelArrayShape_ReadsEveryValueWithMbAsMiB()
    {
        var gpu = Assert.Single(AmdSmiJsonParser.Parse(Shared("amd-smi-metric-json_rx6600-array.json"), Timestamp));
        GpuAssert.Readings(gpu, index: 0, name: null, uuid: null, totalMiB: 8176, usedMiB: 202, freeMiB: 7974, reservedMiB: null,
            utilGpu: 1, utilMemory: 0, temperature: 36, power: 6, powerLimit: null, fan: 0, clockSm: 800, clockMemory: 541,
            pstate: "auto", driver: null);
        Assert.Equal(GpuSource.AmdSmi, gpu.Source);
        Assert.Equal("AMD", gpu.Vendor);
        Assert.Equal(2.5, gpu.MemoryUsedPercent);
    }

    [SkippableFact]
    public void AmdSmi_PowerOnlyExample_LeavesTheRestNull()
    {
        var gpu = Assert.Single(AmdSmiJsonParser.Parse(Shared("amd-smi-metric-power-json_changelog-example.json"), Timestamp));
        GpuAssert.Readings(gpu, index: 0, name: null, uuid: null, totalMiB: null, usedMiB: null, freeMiB: null, reservedMiB: null,
            utilGpu: null, utilMemory: null, temperature: null, power: 10, powerLimit: null, fan: null, clockSm: null, clockMemory: null,
            pstate: null, driver: null);
    }

    [Fact]
    public void AmdSmi_GpuDataShape_MadeHereFixture_ReadsBothGpus()
    {
        // MADE HERE (Fixtures/README.md and the file's _comment): no public capture of {"gpu_data": [...]}.
        var gpus = AmdSmiJsonParser.Parse(MadeHere("amd-smi-metric-json_gpu-data_MADE-HERE.json"), Timestamp);
        Assert.Equal(2, gpus.Count);
        GpuAssert.Readings(gpus[0], index: 0, name: null, uuid: null, totalMiB: 196592, usedMiB: 150000, freeMiB: 46592,
            reservedMiB: null, utilGpu: 87, utilMemory: 41, temperature: 78, power: 612, powerLimit: 750, fan: null, clockSm: 2100,
            clockMemory: 1300, pstate: "determinism", driver: null);
        GpuAssert.Readings(gpus[1], index: 1, name: null, uuid: null, totalMiB: 196592, usedMiB: 283, freeMiB: 196309,
            reservedMiB: null, utilGpu: 0, utilMemory: 0, temperature: 40, power: 141, powerLimit: 750, fan: null, clockSm: 132,
            clockMemory: 900, pstate: "auto", driver: null);
    }

    [Fact]
    public void AmdSmi_UnknownShape_IsAFormatError() =>
        Assert.Throws<FormatException>(() => AmdSmiJsonParser.Parse("{\"something\": 1}", Timestamp));

    [SkippableFact]
    public void RocmSmi_ProductUseMeminfo_ReadsBytes()
    {
        var gpu = Assert.Single(RocmSmiJsonParser.Parse(Shared("rocm-smi-json_rx7900xt.json"), Timestamp));
        Assert.Equal(0, gpu.Index);
        Assert.Equal("Radeon RX 7900 XT", gpu.Name);
        Assert.Equal(21458059264, gpu.MemoryTotal);
        Assert.Equal(27856896, gpu.MemoryUsed);
        Assert.Equal(21458059264 - 27856896, gpu.MemoryFree);
        Assert.Equal(0, gpu.UtilizationGpu);
        Assert.Null(gpu.UtilizationMemory);
        Assert.Null(gpu.TemperatureC);
        Assert.Null(gpu.PowerDrawW);
        Assert.Null(gpu.Uuid);
        Assert.Equal(GpuSource.RocmSmi, gpu.Source);
        Assert.Equal("AMD", gpu.Vendor);
    }

    [SkippableFact]
    public void RocmSmi_MemUseOnTwoCards_ReadsBoth()
    {
        var gpus = RocmSmiJsonParser.Parse(Shared("rocm-smi-json-showmemuse_2x-rx6800.json"), Timestamp);
        Assert.Equal([0, 1], gpus.Select(g => g.Index));
        Assert.All(gpus, g => Assert.Equal(0, g.UtilizationMemory));
        Assert.All(gpus, g => Assert.Null(g.MemoryTotal));
    }

    [SkippableFact]
    public void RocmSmi_FourMi100_ReadsEveryCardAndTheDriver()
    {
        var gpus = RocmSmiJsonParser.Parse(Shared("rocm-smi-json_4x-mi100_rocm602.json"), Timestamp);
        Assert.Equal(4, gpus.Count);
        var expected = new (string Uuid, int Temp, double Power, string Bus)[]
        {
            ("0x79ccd55167a2124a", 53, 36.0, "0000:83:00.0"), ("0x4edfb117a17a07d", 55, 44.0, "0000:A3:00.0"),
            ("0xd4a9ec48d03d261d", 54, 43.0, "0000:C3:00.0"), ("0x1b9dd972253c3736", 51, 39.0, "0000:E3:00.0"),
        };
        for (var i = 0; i < 4; i++)
        {
            var g = gpus[i];
            Assert.Equal(i, g.Index);
            Assert.Equal("Arcturus GL-XL [Instinct MI100]", g.Name);
            Assert.Equal(expected[i].Uuid, g.Uuid);
            Assert.Equal(expected[i].Temp, g.TemperatureC);
            Assert.Equal(expected[i].Bus, g.PciBusId);
            Assert.Equal(expected[i].Power, g.PowerDrawW);
            Assert.Equal(290.0, g.PowerLimitW);
            Assert.Equal(34342961152, g.MemoryTotal);
            Assert.Equal(6750208, g.MemoryUsed);
            Assert.Equal(34342961152 - 6750208, g.MemoryFree);
            Assert.Equal(0, g.UtilizationGpu);
            Assert.Equal(0, g.UtilizationMemory);
            Assert.Equal(300, g.ClockSmMHz);
            Assert.Equal(1200, g.ClockMemoryMHz);
            Assert.Equal("auto", g.PerformanceState);
            Assert.Equal("6.3.6", g.DriverVersion);
            Assert.Null(g.FanPercent);
        }
    }

    [SkippableFact]
    public void RocmSmi_Rocm612_CardSeriesAndReadWriteActivity()
    {
        var gpu = Assert.Single(RocmSmiJsonParser.Parse(Shared("rocm-smi-json_rx6700xt_rocm612.json"), Timestamp));
        Assert.Equal("Navi 22 [Radeon RX 6700/6700 XT / 6800M]", gpu.Name);
        Assert.Null(gpu.Uuid);
        Assert.Equal("0000:07:00.0", gpu.PciBusId);
        Assert.Equal(45, gpu.TemperatureC);
        Assert.Equal(6.0, gpu.PowerDrawW);
        Assert.Equal(211.0, gpu.PowerLimitW);
        Assert.Equal(0, gpu.ClockSmMHz);
        Assert.Equal(96, gpu.ClockMemoryMHz);
        Assert.Equal(0, gpu.UtilizationGpu);
        Assert.Equal(0, gpu.UtilizationMemory);
        Assert.Equal(12868124672, gpu.MemoryTotal);
        Assert.Equal(1572745216, gpu.MemoryUsed);
        Assert.Equal(12868124672 - 1572745216, gpu.MemoryFree);
        Assert.Equal("auto", gpu.PerformanceState);
        Assert.Equal("6.3.6", gpu.DriverVersion);
    }

    [SkippableFact]
    public void RocmSmi_Rocm430_PciIdsAreNotTakenForAName()
    {
        var gpu = Assert.Single(RocmSmiJsonParser.Parse(Shared("rocm-smi-json_rx6700xt_rocm430.json"), Timestamp));
        Assert.Null(gpu.Name);
        Assert.Equal(45, gpu.TemperatureC);
        Assert.Equal(6.0, gpu.PowerDrawW);
        Assert.Equal(211.0, gpu.PowerLimitW);
        Assert.Equal(500, gpu.ClockSmMHz);
        Assert.Equal(96, gpu.ClockMemoryMHz);
        Assert.Equal(0, gpu.UtilizationGpu);
        Assert.Equal(0, gpu.UtilizationMemory);
        Assert.Equal(12868124672, gpu.MemoryTotal);
        Assert.Equal(1622728704, gpu.MemoryUsed);
        Assert.Equal("6.3.6", gpu.DriverVersion);
    }
}

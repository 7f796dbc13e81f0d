using Gryphgen.Core.Gpu;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

public sealed class NvidiaSmiCsvParserTests
{
    private static IReadOnlyList<GpuStatus> Gpus(string text, params string[] fieldsWithoutHeader) =>
        NvidiaSmiCsvParser.ParseQueryGpu(text, fieldsWithoutHeader.Length == 0 ? null : fieldsWithoutHeader, Timestamp);

    [SkippableFact]
    public void QueryGpu_HeaderWithUnitsAndNaFan_ReadsEveryValue()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-csv_tesla-p100.csv")));
        GpuAssert.Readings(gpu, index: 0, name: "Tesla P100-PCIE-16GB", uuid: "GPU-ef1b2c9b-38d8-2090-2bd1-f567a3eb42a6",
            totalMiB: null, usedMiB: 0, freeMiB: 16280, reservedMiB: 103, utilGpu: 0, utilMemory: 0, temperature: 37,
            power: 28.16, powerLimit: null, fan: null, clockSm: 405, clockMemory: 715, pstate: "P0", driver: null);
        Assert.Equal(GpuSource.NvidiaSmi, gpu.Source);
        Assert.Equal("NVIDIA", gpu.Vendor);
        Assert.Equal(Timestamp, gpu.Timestamp.ToUniversalTime()); // shown as local time; the same instant
    }

    [SkippableFact]
    public void QueryGpu_TwoDifferentGpus_ReadsBothRowsNotJustGpu0()
    {
        // monitor_gpu.pl read only GPU 0; a second GPU corrupted its fields. Header aliases: clocks.gr, gpu_name.
        var gpus = Gpus(Shared("nvidia-smi-query-gpu_2x-gtx1080ti-gtx1060.csv"));
        Assert.Equal(2, gpus.Count);
        GpuAssert.Readings(gpus[0], index: 0, name: "GeForce GTX 1080 Ti", uuid: null, totalMiB: 11175, usedMiB: 2856, freeMiB: null,
            reservedMiB: null, utilGpu: 36, utilMemory: null, temperature: 60, power: 106.56, powerLimit: null, fan: 29,
            clockSm: null, clockMemory: 5508, pstate: null, driver: null);
        GpuAssert.Readings(gpus[1], index: 1, name: "GeForce GTX 1060 6GB", uuid: null, totalMiB: 6078, usedMiB: 4, freeMiB: null,
            reservedMiB: null, utilGpu: 0, utilMemory: null, temperature: 49, power: 5.68, powerLimit: null, fan: 29,
            clockSm: null, clockMemory: 405, pstate: null, driver: null);
        Assert.Equal(0.1, gpus[1].MemoryUsedPercent);
        Assert.Equal(25.6, gpus[0].MemoryUsedPercent);
    }

    [SkippableFact]
    public void QueryGpu_LoopOutput_ReadsEverySampleWithUnits()
    {
        var gpus = Gpus(Shared("nvidia-smi-query-gpu-loop_gtx1650super_530.41.03.csv"));
        var expected = new (int Util, int MemUtil, string Pstate, double Power, int Sm, int Mem)[]
        {
            (24, 16, "P5", 16.50, 660, 810), (18, 14, "P8", 16.52, 420, 405), (42, 27, "P5", 16.89, 720, 810),
            (17, 14, "P5", 16.28, 720, 810), (21, 16, "P8", 15.67, 480, 405),
        };
        Assert.Equal(expected.Length, gpus.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            GpuAssert.Readings(gpus[i], index: 0, name: null, uuid: null, totalMiB: null, usedMiB: null, freeMiB: null, reservedMiB: null,
                utilGpu: e.Util, utilMemory: e.MemUtil, temperature: 47, power: e.Power, powerLimit: null, fan: 0, clockSm: e.Sm,
                clockMemory: e.Mem, pstate: e.Pstate, driver: null);
        }
    }

    [SkippableFact]
    public void QueryGpu_DriverVersionAndBusId_AreRead()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-query-gpu_rtx2060_460.91.03.csv")));
        GpuAssert.Readings(gpu, index: 0, name: "GeForce RTX 2060", uuid: null, totalMiB: 5934, usedMiB: 682, freeMiB: 5252,
            reservedMiB: null, utilGpu: 20, utilMemory: 8, temperature: 36, power: null, powerLimit: null, fan: null, clockSm: null,
            clockMemory: null, pstate: null, driver: "460.91.03");
        Assert.Equal("00000000:09:00.0", gpu.PciBusId);
    }

    [SkippableFact]
    public void QueryGpu_NoHeaderWithUnitsAndNotSupported_IsNullNotZero()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-query-gpu-noheader_gtx770-not-supported.csv"),
            "gpu_name", "utilization.gpu", "utilization.memory", "temperature.gpu", "power.draw", "power.limit", "fan.speed", "pstate",
            "clocks.current.graphics", "clocks.current.memory", "power.max_limit", "power.default_limit"));
        GpuAssert.Readings(gpu, index: 0, name: "GeForce GTX 770", uuid: null, totalMiB: null, usedMiB: null, freeMiB: null,
            reservedMiB: null, utilGpu: null, utilMemory: null, temperature: 52, power: null, powerLimit: null, fan: 52, clockSm: null,
            clockMemory: null, pstate: "P0", driver: null);
    }

    [SkippableFact]
    public void QueryGpu_NoHeaderNoUnitsAndNaFan_ReadsMiB()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-query-gpu-noheader-nounits_fan-na.csv"),
            "memory.total", "memory.free", "memory.used", "temperature.gpu", "fan.speed", "utilization.gpu", "utilization.memory"));
        GpuAssert.Readings(gpu, index: 0, name: null, uuid: null, totalMiB: 2004, usedMiB: 0, freeMiB: 2004, reservedMiB: null,
            utilGpu: 0, utilMemory: 0, temperature: 44, power: null, powerLimit: null, fan: null, clockSm: null, clockMemory: null,
            pstate: null, driver: null);
    }

    [SkippableFact]
    public void QueryGpu_AllFieldsH100Mig_NaUtilizationAndDeprecatedTokensAreNull()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-query-gpu_h100-80gb-mig_590.48.01_load.csv")));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-00000000-0000-0000-0000-000000000000",
            totalMiB: 81559, usedMiB: 11125, freeMiB: 69956, reservedMiB: 479, utilGpu: null, utilMemory: null, temperature: 53,
            power: 433.78, powerLimit: 700.00, fan: null, clockSm: 1980, clockMemory: 2619, pstate: "P0", driver: "590.48.01");
        Assert.Equal("00000000:00:09.0", gpu.PciBusId);
    }

    [SkippableFact]
    public void QueryGpu_AllFieldsWindows_ReadsEveryValue()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-query-gpu_rtx-2080-super-windows_610.62_load.csv")));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA GeForce RTX 2080 SUPER", uuid: "GPU-00000000-0000-0000-0000-000000000000",
            totalMiB: 8192, usedMiB: 1366, freeMiB: 6622, reservedMiB: 205, utilGpu: 7, utilMemory: 3, temperature: 44, power: 97.99,
            powerLimit: 250.00, fan: 38, clockSm: 2040, clockMemory: 7500, pstate: "P2", driver: "610.62");
    }

    [SkippableFact]
    public void QueryGpu_AllFieldsConsumerIdle_ReadsEveryValue()
    {
        var gpu = Assert.Single(Gpus(Shared("nvidia-smi-query-gpu_rtx-4080-super_595.71.05_idle.csv")));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA GeForce RTX 4080 SUPER", uuid: "GPU-00000000-0000-0000-0000-000000000000",
            totalMiB: 16376, usedMiB: 596, freeMiB: 15348, reservedMiB: 434, utilGpu: 0, utilMemory: 23, temperature: 43, power: 26.20,
            powerLimit: 320.00, fan: 0, clockSm: 210, clockMemory: 405, pstate: "P8", driver: "595.71.05");
    }

    [Fact]
    public void QueryGpu_InsufficientPermissions_MadeHereFixture_IsNull()
    {
        // MADE HERE (Fixtures/README.md): no public capture shows [Insufficient Permissions]; written from the format.
        var gpus = Gpus(MadeHere("nvidia-smi-query-gpu_insufficient-permissions_MADE-HERE.csv"));
        Assert.Equal(2, gpus.Count);
        GpuAssert.Readings(gpus[0], index: 0, name: "NVIDIA GeForce RTX 3090", uuid: "GPU-3f1c2a9e-1111-4b7a-9c1d-000000000001",
            totalMiB: 24576, usedMiB: 20480, freeMiB: 3754, reservedMiB: 342, utilGpu: 87, utilMemory: 41, temperature: 71,
            power: 312.45, powerLimit: 350.00, fan: 65, clockSm: 1695, clockMemory: 9751, pstate: "P2", driver: "550.54.14");
        GpuAssert.Readings(gpus[1], index: 1, name: "NVIDIA GeForce RTX 3090", uuid: "GPU-3f1c2a9e-1111-4b7a-9c1d-000000000002",
            totalMiB: 24576, usedMiB: null, freeMiB: null, reservedMiB: 342, utilGpu: null, utilMemory: null, temperature: 48,
            power: null, powerLimit: null, fan: 30, clockSm: 210, clockMemory: 405, pstate: "P8", driver: "550.54.14");
        Assert.Null(gpus[1].MemoryUsedPercent);
    }

    [SkippableFact]
    public void ComputeApps_HeaderWithUnitsInValues_ReadsPidsNamesAndMemory()
    {
        var apps = NvidiaSmiCsvParser.ParseComputeApps(Shared("nvidia-smi-query-compute-apps_h100-80gb-mig_590.48.01_load.csv"), null);
        Assert.Equal(3, apps.Count);
        Assert.All(apps, a => Assert.Equal("GPU-00000000-0000-0000-0000-000000000000", a.GpuUuid));
        Assert.Equal([21180, 21181, 21198], apps.Select(a => a.Process.Pid));
        Assert.Equal(["/root/tools/memhog", "/root/tools/memhog", "./gpu_burn"], apps.Select(a => a.Process.Name));
        Assert.Equal([2296 * MiB, 1272 * MiB, 7484 * MiB], apps.Select(a => a.Process.UsedMemory));
    }

    [SkippableFact]
    public void ComputeApps_WindowsNaMemory_IsNull()
    {
        var apps = NvidiaSmiCsvParser.ParseComputeApps(Shared("nvidia-smi-query-compute-apps_rtx-2080-super-windows_610.62_load.csv"), null);
        Assert.Equal(21, apps.Count);
        Assert.All(apps, a => Assert.Null(a.Process.UsedMemory));
        Assert.All(apps, a => Assert.StartsWith("C:\\", a.Process.Name, StringComparison.Ordinal));
        Assert.Equal(2140, apps[0].Process.Pid);
        Assert.Equal(@"C:\Windows\System32\dwm.exe", apps[0].Process.Name);
        Assert.Equal(13264, apps[1].Process.Pid);
        Assert.Equal(@"C:\Windows\System32\ShellHost.exe", apps[1].Process.Name);
    }

    [SkippableFact]
    public void ComputeApps_HeaderOnly_IsEmpty()
    {
        Assert.Empty(NvidiaSmiCsvParser.ParseComputeApps(Shared("nvidia-smi-query-compute-apps_h200_590.48.01_idle-empty.csv"), null));
        Assert.Empty(NvidiaSmiCsvParser.ParseComputeApps(string.Empty, null));
    }

    [SkippableFact]
    public void ComputeApps_TwoGpus_KeepsEachRowsGpu()
    {
        var apps = NvidiaSmiCsvParser.ParseComputeApps(Shared("nvidia-smi-query-compute-apps_2gpu-vgpu.csv"), null);
        Assert.Equal(
            ["GPU-d0180485-9584-433c-6782-c335d5df2cb3", "GPU-777ead31-954e-837f-590f-6c4974d8e571", "GPU-777ead31-954e-837f-590f-6c4974d8e571"],
            apps.Select(a => a.GpuUuid));
        Assert.All(apps, a => Assert.Equal("vgpu", a.Process.Name));
    }

    [Fact]
    public void ComputeApps_NamesWithCommas_MadeHereFixture_AreReadFromBothEnds()
    {
        // MADE HERE (Fixtures/README.md): nvidia-smi does not quote, so a comma in a path splits the name.
        var apps = NvidiaSmiCsvParser.ParseComputeApps(MadeHere("nvidia-smi-query-compute-apps_comma-names_MADE-HERE.csv"), null);
        Assert.Equal(3, apps.Count);
        Assert.Equal(["/opt/models,old/llama-server", "/srv/quoted, name/ollama", "/home/u/a,b,c/vllm"], apps.Select(a => a.Process.Name));
        Assert.Equal([31337, 31338, 31339], apps.Select(a => a.Process.Pid));
        Assert.Equal([20480 * MiB, 512 * MiB, null], apps.Select(a => a.Process.UsedMemory));
        Assert.Equal("GPU-3f1c2a9e-1111-4b7a-9c1d-000000000002", apps[2].GpuUuid);
    }

    [Fact]
    public void ComputeApps_InsufficientPermissions_MadeHereFixture_IsNull()
    {
        // MADE HERE (Fixtures/README.md): a process of another container, which the caller may not inspect.
        var apps = NvidiaSmiCsvParser.ParseComputeApps(MadeHere("nvidia-smi-query-compute-apps_insufficient-permissions_MADE-HERE.csv"), null);
        Assert.Equal(2, apps.Count);
        Assert.Equal(("/usr/bin/python3", 20000 * MiB), (apps[0].Process.Name, apps[0].Process.UsedMemory));
        Assert.Equal(5151, apps[1].Process.Pid);
        Assert.Null(apps[1].Process.Name);
        Assert.Null(apps[1].Process.UsedMemory);
    }

    [Theory]
    [InlineData("[N/A]")]
    [InlineData("N/A")]
    [InlineData("[Not Supported]")]
    [InlineData("[Insufficient Permissions]")]
    [InlineData("[Unknown Error]")]
    [InlineData("[Requested functionality has been deprecated]")]
    [InlineData("Requested functionality has been deprecated")]
    [InlineData("[Function Not Found]")]
    [InlineData(" N/A ")]
    [InlineData("")]
    public void Tokens_ThatAreNotValues_BecomeNull(string token)
    {
        Assert.Null(GpuValueParser.Text(token));
        Assert.Null(GpuValueParser.Number(token));
        Assert.Null(GpuValueParser.Bytes(token));
    }

    [Theory]
    [InlineData(" 40 % ", 40.0)]
    [InlineData("66.92 W", 66.92)]
    [InlineData("-5 C", -5.0)]
    [InlineData("(1402Mhz)", 1402.0)]
    [InlineData("53.0", 53.0)]
    public void Numbers_WithUnitsAndPadding_AreRead(string text, double expected) =>
        Assert.Equal(expected, GpuValueParser.Number(text));

    [Fact]
    public void CsvLine_QuotedFieldsAndDoubledQuotes_AreOneField()
    {
        Assert.Equal(["a", " b, c", "d\"e"], CsvLine.Split("a,\" b, c\", \"d\"\"e\""));
    }
}

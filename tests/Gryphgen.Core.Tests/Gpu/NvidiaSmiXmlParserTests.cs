using Gryphgen.Core.Gpu;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

public sealed class NvidiaSmiXmlParserTests
{
    private static IReadOnlyList<GpuStatus> Parse(string name) => NvidiaSmiXmlParser.Parse(Shared(name), Timestamp);

    [SkippableFact]
    public void Mig_A100_ReadsGpuAndBothMigDevicesWithTheirMemory()
    {
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_a100-sxm4-mig.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA A100-SXM4-40GB", uuid: "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a",
            totalMiB: 40960, usedMiB: 38, freeMiB: 40315, reservedMiB: 605, utilGpu: null, utilMemory: null, temperature: 36,
            power: 66.92, powerLimit: 400.00, fan: null, clockSm: 1410, clockMemory: 1215, pstate: "P0", driver: "510.47.03", cuda: "11.6");
        Assert.Equal("00000000:00:04.0", gpu.PciBusId);
        Assert.Empty(gpu.Processes);
        Assert.Equal(2, gpu.MigDevices.Count);
        for (var i = 0; i < 2; i++)
        {
            var mig = gpu.MigDevices[i];
            Assert.Equal(i, mig.Index);
            Assert.Equal(i + 1, mig.GpuInstanceId);
            Assert.Equal(0, mig.ComputeInstanceId);
            Assert.Equal(19968 * MiB, mig.MemoryTotal);
            Assert.Equal(0 * MiB, mig.MemoryReserved);
            Assert.Equal(19 * MiB, mig.MemoryUsed);
            Assert.Equal(19948 * MiB, mig.MemoryFree);
            Assert.Null(mig.Uuid);
        }
    }

    [SkippableFact]
    public void NewerDriver580_PowerFromGpuPowerReadingsInstantDraw_AndPaddedValues()
    {
        // power_draw is " N/A " here; instant_power_draw holds the reading. Values are padded (" 40 % ").
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_rtx-pro-6000-driver-580.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA RTX PRO 6000 Blackwell", uuid: "GPU-11111111-2222-3333-4444-555555555555",
            totalMiB: null, usedMiB: null, freeMiB: null, reservedMiB: null, utilGpu: null, utilMemory: null, temperature: 37,
            power: 66.84, powerLimit: null, fan: 40, clockSm: null, clockMemory: null, pstate: "P8", driver: null, cuda: null);
    }

    [SkippableFact]
    public void NewerDriver590MaxQ_CurrentPowerLimitAndProcess()
    {
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_rtx-pro-6000-maxq-driver-590.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
            uuid: "GPU-12345678-aaaa-bbbb-cccc-0123456789ab", totalMiB: 97887, usedMiB: 65720, freeMiB: 31531, reservedMiB: 637,
            utilGpu: 0, utilMemory: 0, temperature: 24, power: 3.99, powerLimit: 300.00, fan: 30, clockSm: 180, clockMemory: 405,
            pstate: "P8", driver: "590.44.01", cuda: "13.1");
        var process = Assert.Single(gpu.Processes);
        Assert.Equal(new GpuProcess { Pid = 116860, Name = "/root/src/llama.cpp/build/bin/llama-server", UsedMemory = 65710 * MiB, Type = "C" }, process);
        Assert.Empty(gpu.MigDevices);
    }

    [SkippableFact]
    public void TwoGpus590_ReadsBothWithTheirProcesses()
    {
        var gpus = Parse("nvidia-smi-q-x_2x-rtx-a5000-driver-590.xml");
        Assert.Equal(2, gpus.Count);
        GpuAssert.Readings(gpus[0], index: 0, name: "NVIDIA RTX A5000", uuid: "GPU-12345678-aaaa-bbbb-cccc-0123456789ab",
            totalMiB: 24564, usedMiB: 22437, freeMiB: 1678, reservedMiB: 450, utilGpu: 0, utilMemory: 0, temperature: 13,
            power: 6.52, powerLimit: 230.00, fan: 30, clockSm: 210, clockMemory: 405, pstate: "P8", driver: "590.44.01", cuda: "13.1");
        GpuAssert.Readings(gpus[1], index: 1, name: "NVIDIA RTX A5000", uuid: "GPU-12345678-aaaa-bbbb-cccc-0123456789cd",
            totalMiB: 24564, usedMiB: 17253, freeMiB: 6862, reservedMiB: 450, utilGpu: 0, utilMemory: 0, temperature: 15,
            power: 13.59, powerLimit: 230.00, fan: 30, clockSm: 210, clockMemory: 405, pstate: "P8", driver: "590.44.01", cuda: "13.1");
        Assert.Equal("00000000:81:00.0", gpus[0].PciBusId);
        Assert.Equal("00000000:C1:00.0", gpus[1].PciBusId);
        Assert.Equal(new GpuProcess { Pid = 100477, Name = "/root/src/llama.cpp/build/bin/llama-server", UsedMemory = 22430 * MiB, Type = "C" }, Assert.Single(gpus[0].Processes));
        Assert.Equal(new GpuProcess { Pid = 100477, Name = "/root/src/llama.cpp/build/bin/llama-server", UsedMemory = 17246 * MiB, Type = "C" }, Assert.Single(gpus[1].Processes));
        Assert.All(gpus, g => Assert.Empty(g.MigDevices));
    }

    [SkippableFact]
    public void Windows_ProcessesWithNaMemoryAndEmptyNames()
    {
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_rtx-2080-win.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA GeForce RTX 2080", uuid: "GPU-fbd55ed4-1eec-4423-0a47-ad594b4333e3",
            totalMiB: 8192, usedMiB: 862, freeMiB: 7147, reservedMiB: 182, utilGpu: 2, utilMemory: 7, temperature: 29, power: 14.50,
            powerLimit: 275.00, fan: 37, clockSm: 193, clockMemory: 403, pstate: "P8", driver: "516.59", cuda: "11.7");
        Assert.Equal(26, gpu.Processes.Count);
        Assert.All(gpu.Processes, p => Assert.Null(p.UsedMemory));
        Assert.All(gpu.Processes, p => Assert.Equal("C+G", p.Type));
        Assert.Equal([10808, 12636, 13120, 22600, 25520], gpu.Processes.Where(p => p.Name is null).Select(p => p.Pid));
        Assert.Equal(new GpuProcess { Pid = 7724, Name = @"C:\Program Files\WindowsApps\Microsoft.YourPhone_1.22062.543.0_x64__8wekyb3d8bbwe\PhoneExperienceHost.exe", Type = "C+G" }, gpu.Processes[0]);
        Assert.Equal(new GpuProcess { Pid = 10808, Name = null, Type = "C+G" }, gpu.Processes[1]);
        Assert.Equal(30212, gpu.Processes[^1].Pid);
        Assert.Equal(
            [7724, 10808, 11556, 12452, 12636, 13120, 14296, 16508, 16592, 20920, 21004, 21036, 21048, 21104, 21292, 21472, 21852, 22600, 23652, 25436, 25520, 25696, 26972, 27148, 27628, 30212],
            gpu.Processes.Select(p => p.Pid));
    }

    [SkippableFact]
    public void Driver535_CurrentPowerLimit()
    {
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_rtx-4090-driver-535.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA GeForce RTX 4090", uuid: "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437",
            totalMiB: 24564, usedMiB: 2, freeMiB: 24214, reservedMiB: 346, utilGpu: 0, utilMemory: 0, temperature: 40, power: 26.84,
            powerLimit: 450.00, fan: 0, clockSm: 210, clockMemory: 405, pstate: "P8", driver: "535.86.05", cuda: "12.2");
    }

    [SkippableFact]
    public void Laptop_NaPowerLimitAndGraphicsProcess()
    {
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_rtx-3060.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA GeForce RTX 3060 Laptop GPU", uuid: "GPU-473d8d0f-d462-185c-6b36-6fc23e23e571",
            totalMiB: 6144, usedMiB: 5, freeMiB: 5940, reservedMiB: 197, utilGpu: 0, utilMemory: 0, temperature: 45, power: 8.70,
            powerLimit: null, fan: null, clockSm: 210, clockMemory: 405, pstate: "P8", driver: "515.65.01", cuda: "11.7");
        Assert.Equal(new GpuProcess { Pid = 28543, Name = "/usr/libexec/Xorg", UsedMemory = 4 * MiB, Type = "G" }, Assert.Single(gpu.Processes));
    }

    [SkippableFact]
    public void TabIndentedNoMig_ReadsEveryValue()
    {
        var gpu = Assert.Single(Parse("nvidia-smi-q-x_tesla-p100.xml"));
        GpuAssert.Readings(gpu, index: 0, name: "Tesla P100-PCIE-16GB", uuid: "GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e",
            totalMiB: 16384, usedMiB: 0, freeMiB: 16280, reservedMiB: 103, utilGpu: 0, utilMemory: 0, temperature: 38, power: 26.16,
            powerLimit: 250.00, fan: null, clockSm: 405, clockMemory: 715, pstate: "P0", driver: "510.47.03", cuda: "11.6");
        Assert.Empty(gpu.MigDevices);
    }
}

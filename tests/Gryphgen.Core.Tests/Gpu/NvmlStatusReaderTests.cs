using Gryphgen.Core.Gpu;
using Gryphgen.Core.Gpu.Nvml;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

public sealed class NvmlStatusReaderTests
{
    private static IReadOnlyList<GpuStatus> Read(FakeNvmlApi api) =>
        new NvmlStatusReader(api, pid => pid == 4242 ? "llama-server" : null).Read(Timestamp);

    [Fact]
    public void Read_EveryField_ConvertedToGpuStatusUnits()
    {
        var api = new FakeNvmlApi(new FakeNvmlDevice { Name = "NVIDIA H100 80GB HBM3", Uuid = "GPU-aaaa", Processes = [(4242, 5UL << 30)] });
        var gpu = Assert.Single(Read(api));
        Assert.Equal(0, gpu.Index);
        Assert.Equal("NVIDIA H100 80GB HBM3", gpu.Name);
        Assert.Equal("GPU-aaaa", gpu.Uuid);
        Assert.Equal("NVIDIA", gpu.Vendor);
        Assert.Equal(24L << 30, gpu.MemoryTotal);
        Assert.Equal(4L << 30, gpu.MemoryUsed);
        Assert.Equal(300L << 20, gpu.MemoryReserved);
        Assert.Equal((24L << 30) - (4L << 30) - (300L << 20), gpu.MemoryFree);
        Assert.Equal(16.7, gpu.MemoryUsedPercent);
        Assert.Equal(55, gpu.UtilizationGpu);
        Assert.Equal(22, gpu.UtilizationMemory);
        Assert.Equal(61, gpu.TemperatureC);
        Assert.Equal(123.456, gpu.PowerDrawW);
        Assert.Equal(350.0, gpu.PowerLimitW);
        Assert.Equal(40, gpu.FanPercent);
        Assert.Equal(1800, gpu.ClockSmMHz);
        Assert.Equal(9500, gpu.ClockMemoryMHz);
        Assert.Equal("P2", gpu.PerformanceState);
        Assert.Equal("580.95.05", gpu.DriverVersion);
        Assert.Equal("13.0", gpu.CudaVersion);
        Assert.Equal(GpuSource.Nvml, gpu.Source);
        Assert.Equal(Timestamp, gpu.Timestamp.ToUniversalTime()); // shown as local time; the same instant
        Assert.Equal(new GpuProcess { Pid = 4242, Name = "llama-server", UsedMemory = 5L << 30, Type = "C" }, Assert.Single(gpu.Processes));
        Assert.Empty(gpu.MigDevices);
        Assert.Contains("nvmlDeviceGetMemoryInfo_v2", api.Calls);
        Assert.DoesNotContain("nvmlDeviceGetMemoryInfo", api.Calls);
        Assert.DoesNotContain("nvmlDeviceGetComputeRunningProcesses_v2", api.Calls);
    }

    [Fact]
    public void Read_CudaVersion12020_Is12_2()
    {
        var api = new FakeNvmlApi(new FakeNvmlDevice()) { CudaVersion = 12020 };
        Assert.Equal("12.2", Assert.Single(Read(api)).CudaVersion);
    }

    [Fact]
    public void Memory_WithoutV2Symbol_FallsBackToV1WithoutReserved()
    {
        var api = new FakeNvmlApi(new FakeNvmlDevice()) { HasMemoryInfoV2 = false };
        var gpu = Assert.Single(Read(api));
        Assert.Equal(["nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetMemoryInfo"], api.Calls.Where(c => c.StartsWith("nvmlDeviceGetMemoryInfo", StringComparison.Ordinal)));
        Assert.Equal(24L << 30, gpu.MemoryTotal);
        Assert.Equal((4L << 30) + (300L << 20), gpu.MemoryUsed);
        Assert.Null(gpu.MemoryReserved);
    }

    [Fact]
    public void Processes_V3Missing_FallsBackToV2ThenV1()
    {
        var device = new FakeNvmlDevice { Processes = [(4242, 1UL << 30), (77, ulong.MaxValue)] };
        var v2 = new FakeNvmlApi(device) { HasProcessesV3 = false };
        var viaV2 = Assert.Single(Read(v2));
        Assert.Equal(["nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"], v2.Calls.Where(c => c.Contains("Processes", StringComparison.Ordinal)));
        Assert.Equal([4242, 77], viaV2.Processes.Select(p => p.Pid));

        var v1 = new FakeNvmlApi(device) { HasProcessesV3 = false, HasProcessesV2 = false };
        var viaV1 = Assert.Single(Read(v1));
        Assert.Equal(
            ["nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2", "nvmlDeviceGetComputeRunningProcesses"],
            v1.Calls.Where(c => c.Contains("Processes", StringComparison.Ordinal)));
        Assert.Equal([4242, 77], viaV1.Processes.Select(p => p.Pid));
        Assert.Equal([1L << 30, null], viaV1.Processes.Select(p => p.UsedMemory));
        Assert.Equal(["llama-server", null], viaV1.Processes.Select(p => p.Name));
    }

    [Fact]
    public void Processes_MoreThanTheFirstBuffer_GrowsOnInsufficientSize()
    {
        var many = Enumerable.Range(1, 40).Select(i => ((uint)i, (ulong)i << 20)).ToList();
        var api = new FakeNvmlApi(new FakeNvmlDevice { Processes = many });
        var gpu = Assert.Single(Read(api));
        Assert.Equal(40, gpu.Processes.Count);
        Assert.Equal(Enumerable.Range(1, 40), gpu.Processes.Select(p => p.Pid));
        Assert.Equal(40L << 20, gpu.Processes[^1].UsedMemory);
        Assert.Equal(2, api.Calls.Count(c => c == "nvmlDeviceGetComputeRunningProcesses_v3"));
    }

    [Theory]
    [InlineData(3)] // NVML_ERROR_NOT_SUPPORTED
    [InlineData(4)] // NVML_ERROR_NO_PERMISSION
    public void Fields_NotSupportedOrNoPermission_AreNullAndTheRestIsRead(int code)
    {
        var failure = (NvmlReturn)code;
        var device = new FakeNvmlDevice
        {
            Failures = new()
            {
                ["Temperature"] = failure, ["Fan"] = failure, ["Power"] = failure, ["PowerLimit"] = failure, ["ClockSm"] = failure,
                ["ClockMemory"] = failure, ["Utilization"] = failure, ["Pstate"] = failure, ["Processes"] = failure, ["Name"] = failure,
            },
        };
        var gpu = Assert.Single(Read(new FakeNvmlApi(device)));
        Assert.False(gpu.IsLost);
        Assert.Null(gpu.Error);
        Assert.Null(gpu.TemperatureC);
        Assert.Null(gpu.FanPercent);
        Assert.Null(gpu.PowerDrawW);
        Assert.Null(gpu.PowerLimitW);
        Assert.Null(gpu.ClockSmMHz);
        Assert.Null(gpu.ClockMemoryMHz);
        Assert.Null(gpu.UtilizationGpu);
        Assert.Null(gpu.UtilizationMemory);
        Assert.Null(gpu.PerformanceState);
        Assert.Null(gpu.Name);
        Assert.Empty(gpu.Processes);
        Assert.Equal("GPU-fake", gpu.Uuid);
        Assert.Equal(24L << 30, gpu.MemoryTotal);
    }

    [Fact]
    public void GpuIsLost_MakesOneLostRow_AndTheOtherGpusAreRead()
    {
        var api = new FakeNvmlApi(
            new FakeNvmlDevice { Uuid = "GPU-ok-0" },
            new FakeNvmlDevice { Uuid = "GPU-lost", Failures = new() { ["Memory"] = NvmlReturn.GpuIsLost } },
            new FakeNvmlDevice { Uuid = "GPU-lost-handle", Failures = new() { ["Handle"] = NvmlReturn.GpuIsLost } },
            new FakeNvmlDevice { Uuid = "GPU-ok-3" });
        var gpus = Read(api);
        Assert.Equal(4, gpus.Count);
        Assert.Equal([false, true, true, false], gpus.Select(g => g.IsLost));
        Assert.Equal([0, 1, 2, 3], gpus.Select(g => g.Index));
        Assert.Equal("GPU-lost", gpus[1].Uuid);
        Assert.Contains("GPU_IS_LOST", gpus[1].Error, StringComparison.Ordinal);
        Assert.Null(gpus[1].MemoryTotal);
        Assert.Null(gpus[1].Name);
        Assert.Equal(24L << 30, gpus[3].MemoryTotal);
        Assert.Equal("GPU-ok-3", gpus[3].Uuid);
    }

    [Fact]
    public void Mig_EnabledWithAnEmptySlot_ListsEachSliceWithItsMemory()
    {
        var parent = new FakeNvmlDevice
        {
            Uuid = "GPU-a100",
            Migs =
            [
                new FakeNvmlDevice { Uuid = "MIG-0", Total = 19968UL << 20, Used = 19UL << 20, Reserved = 0, GpuInstanceId = 1, ComputeInstanceId = 0 },
                null,
                new FakeNvmlDevice { Uuid = "MIG-2", Total = 9856UL << 20, Used = 1UL << 30, Reserved = 0, GpuInstanceId = 5, ComputeInstanceId = 0 },
            ],
        };
        var gpu = Assert.Single(Read(new FakeNvmlApi(parent)));
        Assert.Equal(2, gpu.MigDevices.Count);
        Assert.Equal(
            new GpuMigDevice { Index = 0, Uuid = "MIG-0", GpuInstanceId = 1, ComputeInstanceId = 0, MemoryTotal = 19968L << 20, MemoryUsed = 19L << 20, MemoryFree = 19949L << 20, MemoryReserved = 0 },
            gpu.MigDevices[0]);
        Assert.Equal(2, gpu.MigDevices[1].Index);
        Assert.Equal("MIG-2", gpu.MigDevices[1].Uuid);
        Assert.Equal(5, gpu.MigDevices[1].GpuInstanceId);
        Assert.Equal(9856L << 20, gpu.MigDevices[1].MemoryTotal);
    }

    [Fact]
    public void Session_InitOnceAndShutdownOnDispose()
    {
        var api = new FakeNvmlApi(new FakeNvmlDevice());
        var library = new DisposeCounter();
        using (var session = NvmlSession.Open(api, library, _ => null, out var failure))
        {
            Assert.NotNull(session);
            Assert.Null(failure);
            session.Read(Timestamp);
            session.Read(Timestamp);
            session.Read(Timestamp);
        }

        Assert.Equal(1, api.InitCalls);
        Assert.Equal(1, api.ShutdownCalls);
        Assert.Equal(1, library.Count);
    }

    [Fact]
    public void Session_InitFails_ReportsTheCodeAndReleasesTheLibrary()
    {
        var api = new FakeNvmlApi(new FakeNvmlDevice()) { InitResult = NvmlReturn.DriverNotLoaded };
        var library = new DisposeCounter();
        Assert.Null(NvmlSession.Open(api, library, _ => null, out var failure));
        Assert.Contains("DriverNotLoaded", failure, StringComparison.Ordinal);
        Assert.Equal(1, library.Count);
        Assert.Equal(0, api.ShutdownCalls);
    }

    private sealed class DisposeCounter : IDisposable
    {
        public int Count { get; private set; }

        public void Dispose() => Count++;
    }
}

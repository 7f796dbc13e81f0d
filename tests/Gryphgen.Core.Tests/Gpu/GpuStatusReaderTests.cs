using System.Diagnostics;
using Gryphgen.Core.Gpu;
using Gryphgen.Core.Gpu.Nvml;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

public sealed class GpuStatusReaderTests
{
    private const string A100Csv =
        "0, NVIDIA A100-SXM4-40GB, GPU-27b94a00-ed54-5c24-b1fd-1054085de32a, 40960, 38, 40315, 605, [N/A], [N/A], 36, 66.92, 400.00, [N/A], 1410, 1215, P0, 510.47.03\n";

    private static readonly string[] NoLibraries = ["/nowhere/libnvidia-ml.so.1", "/nowhere/else/libnvidia-ml.so.1"];

    private static GpuProbe Probe(FakeGpuTools tools, FakeNvmlApi? nvml = null) => new()
    {
        NvmlLibraries = NoLibraries,
        LoadNvml = (paths, tried) =>
        {
            foreach (var path in paths)
            {
                tried.Add(path);
            }

            return nvml is null ? null : (nvml, null);
        },
        Tools = tools,
        ProcessName = _ => null,
    };

    [Fact]
    public void Open_NothingInstalled_GpuNotFoundListsEveryPlaceTried()
    {
        var ex = Assert.Throws<GpuNotFoundException>(() => GpuStatusReader.Open(GpuSource.Auto, Probe(new FakeGpuTools()), default));
        Assert.Equal(4, ex.Tried.Count);
        Assert.Contains("/nowhere/libnvidia-ml.so.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/nowhere/else/libnvidia-ml.so.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nvidia-smi (not on PATH)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("amd-smi (not on PATH)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("rocm-smi (not on PATH)", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Open_OnThisMachineWithoutGpu_GpuNotFoundWithinOneSecond()
    {
        Skip.If(File.Exists("/dev/nvidiactl") || File.Exists("/dev/kfd") || GpuToolRunner.Instance.Find("nvidia-smi") is not null,
            "This machine has a GPU driver; the no-GPU behaviour is checked where there is none.");
        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<GpuNotFoundException>(() => GpuStatusReader.Query(GpuSource.Auto));
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Contains("libnvidia-ml.so.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nvidia-smi", ex.Message, StringComparison.Ordinal);
        Assert.Contains("amd-smi", ex.Message, StringComparison.Ordinal);
        Assert.Contains("rocm-smi", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AutoWithNvml_UsesNvmlFirstAndShutsDownOnDispose()
    {
        var tools = new FakeGpuTools().With("nvidia-smi", _ => throw new InvalidOperationException("nvidia-smi must not run when NVML works"));
        var nvml = new FakeNvmlApi(new FakeNvmlDevice { Uuid = "GPU-n" });
        using (var reader = GpuStatusReader.Open(GpuSource.Auto, Probe(tools, nvml), default))
        {
            Assert.Equal(GpuSource.Nvml, reader.Source);
            Assert.Equal("GPU-n", Assert.Single(reader.Query()).Uuid);
            Assert.Equal(GpuSource.Nvml, Assert.Single(reader.Query()).Source);
        }

        Assert.Equal(1, nvml.InitCalls);
        Assert.Equal(1, nvml.ShutdownCalls);
        Assert.Empty(tools.Runs);
    }

    [Fact]
    public void Open_NvmlInitFails_FallsBackToNvidiaSmiAndSaysWhy()
    {
        var tools = new FakeGpuTools().With("nvidia-smi", args => args[0].StartsWith("--query-gpu", StringComparison.Ordinal) ? A100Csv
            : args[0].StartsWith("--query-compute-apps", StringComparison.Ordinal) ? string.Empty : "<nvidia_smi_log><cuda_version>11.6</cuda_version></nvidia_smi_log>");
        var nvml = new FakeNvmlApi(new FakeNvmlDevice()) { InitResult = NvmlReturn.DriverNotLoaded };
        using var reader = GpuStatusReader.Open(GpuSource.Auto, Probe(tools, nvml), default);
        Assert.Equal(GpuSource.NvidiaSmi, reader.Source);
        var gpu = Assert.Single(reader.Query());
        Assert.Equal("11.6", gpu.CudaVersion);
        Assert.Equal(40960 * MiB, gpu.MemoryTotal);
    }

    [SkippableFact]
    public void NvidiaSmi_RunsBothCsvQueriesWithoutShellAndTakesCudaAndMigFromXml()
    {
        var xml = Shared("nvidia-smi-q-x_a100-sxm4-mig.xml");
        const string apps = "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a, 4242, /usr/bin/python3, 1024\nGPU-other, 1, x, 1\n";
        var tools = new FakeGpuTools().With("nvidia-smi", args => args[0] switch
        {
            var a when a.StartsWith("--query-gpu=", StringComparison.Ordinal) => A100Csv,
            var a when a.StartsWith("--query-compute-apps=", StringComparison.Ordinal) => apps,
            "-q" => xml,
            _ => throw new InvalidOperationException(string.Join(' ', args)),
        });
        using var reader = GpuStatusReader.Open(GpuSource.NvidiaSmi, Probe(tools), default);
        var gpu = Assert.Single(reader.Query());
        GpuAssert.Readings(gpu, index: 0, name: "NVIDIA A100-SXM4-40GB", uuid: "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a", totalMiB: 40960,
            usedMiB: 38, freeMiB: 40315, reservedMiB: 605, utilGpu: null, utilMemory: null, temperature: 36, power: 66.92, powerLimit: 400.00,
            fan: null, clockSm: 1410, clockMemory: 1215, pstate: "P0", driver: "510.47.03", cuda: "11.6");
        Assert.Equal(new GpuProcess { Pid = 4242, Name = "/usr/bin/python3", UsedMemory = 1024 * MiB }, Assert.Single(gpu.Processes));
        Assert.Equal(2, gpu.MigDevices.Count);
        Assert.Equal(
            "--query-gpu=index,name,uuid,memory.total,memory.used,memory.free,memory.reserved,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,fan.speed,clocks.sm,clocks.mem,pstate,driver_version",
            tools.Runs[0].Arguments[0]);
        Assert.Equal("--format=csv,noheader,nounits", tools.Runs[0].Arguments[1]);
        Assert.Equal(["--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory", "--format=csv,noheader,nounits"], tools.Runs[1].Arguments);
        Assert.Equal(["-q", "-x"], tools.Runs[2].Arguments);

        // MIG devices change, so -q -x runs again while there are any (the first Query reused the probe's sample).
        reader.Query();
        Assert.Equal(2, tools.Runs.Count(r => r.Arguments[0] == "-q"));
    }

    [Fact]
    public void NvidiaSmi_WithoutMig_RunsTheSlowXmlQueryOnlyOnce()
    {
        var tools = new FakeGpuTools().With("nvidia-smi", args => args[0] == "-q"
            ? "<nvidia_smi_log><cuda_version>12.2</cuda_version><gpu><uuid>GPU-27b94a00-ed54-5c24-b1fd-1054085de32a</uuid></gpu></nvidia_smi_log>"
            : args[0].StartsWith("--query-gpu", StringComparison.Ordinal) ? A100Csv : string.Empty);
        using var reader = GpuStatusReader.Open(GpuSource.NvidiaSmi, Probe(tools), default);
        reader.Query();
        reader.Query();
        var last = reader.Query();
        Assert.Equal(1, tools.Runs.Count(r => r.Arguments[0] == "-q"));
        Assert.Equal("12.2", Assert.Single(last).CudaVersion);
    }

    [SkippableFact]
    public void Open_NvidiaSmiFailsWithoutDriver_FallsBackToAmdSmi()
    {
        var amd = Shared("amd-smi-metric-json_rx6600-array.json");
        var tools = new FakeGpuTools()
            .With("nvidia-smi", _ => throw new GpuToolException("nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."))
            .With("amd-smi", args => args.SequenceEqual(["metric", "--json"]) ? amd : throw new InvalidOperationException());
        using var reader = GpuStatusReader.Open(GpuSource.Auto, Probe(tools), default);
        Assert.Equal(GpuSource.AmdSmi, reader.Source);
        Assert.Equal(8176 * MiB, Assert.Single(reader.Query()).MemoryTotal);

        var forced = Assert.Throws<GpuNotFoundException>(() => GpuStatusReader.Open(GpuSource.NvidiaSmi, Probe(tools), default));
        Assert.Contains("couldn't communicate with the NVIDIA driver", Assert.Single(forced.Tried), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Open_OnlyRocmSmi_UsesIt()
    {
        var rocm = Shared("rocm-smi-json_rx7900xt.json");
        var tools = new FakeGpuTools().With("rocm-smi", args => args[^1] == "--json" ? rocm : throw new InvalidOperationException());
        using var reader = GpuStatusReader.Open(GpuSource.Auto, Probe(tools), default);
        Assert.Equal(GpuSource.RocmSmi, reader.Source);
        Assert.Equal("Radeon RX 7900 XT", Assert.Single(reader.Query()).Name);
    }

    [Fact]
    public void Open_ForcedNvmlWithoutLibrary_TriesOnlyNvml()
    {
        var tools = new FakeGpuTools().With("nvidia-smi", _ => A100Csv);
        var ex = Assert.Throws<GpuNotFoundException>(() => GpuStatusReader.Open(GpuSource.Nvml, Probe(tools), default));
        Assert.StartsWith("NVML (/nowhere/libnvidia-ml.so.1, /nowhere/else/libnvidia-ml.so.1: not found)", Assert.Single(ex.Tried), StringComparison.Ordinal);
        Assert.Empty(tools.Runs);
    }

    [Fact]
    public void Open_NvidiaSmiAnswersTheCsvQueryWithItsXmlLog_IsAnErrorNamingTheToolAndQuery()
    {
        var xmlLog = "<?xml version=\"1.0\" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM \"nvsmi_device_v12.dtd\">\n<nvidia_smi_log>\n"
            + string.Concat(Enumerable.Repeat("\t<gpu id=\"00000000:00:09.0\">\n\t\t<product_name>NVIDIA H100</product_name>\n\t</gpu>\n", 300))
            + "</nvidia_smi_log>\n";
        var tools = new FakeGpuTools().With("nvidia-smi", _ => xmlLog);

        var ex = Assert.Throws<GpuNotFoundException>(() => GpuStatusReader.Open(GpuSource.NvidiaSmi, Probe(tools), default));

        var tried = Assert.Single(ex.Tried);
        Assert.Contains("nvidia-smi --query-gpu=index,name,", tried, StringComparison.Ordinal);
        Assert.Contains("did not answer with the CSV asked for: line 1 has 1 of the 17 fields asked for: '<?xml version=\"1.0\" ?>'", tried, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_NvidiaSmiXmlLogFails_KeepsTheCsvGpusWithCudaAndMigEmptyAndWarns()
    {
        var tools = new FakeGpuTools().With("nvidia-smi", args => args[0] switch
        {
            "-q" => throw new GpuToolException("nvidia-smi exited with code 15: Unable to determine the device handle for GPU 0000:00:09.0"),
            var a when a.StartsWith("--query-gpu", StringComparison.Ordinal) => A100Csv,
            _ => string.Empty,
        });

        using var reader = GpuStatusReader.Open(GpuSource.NvidiaSmi, Probe(tools), default);
        var gpu = Assert.Single(reader.Query());

        Assert.Equal("NVIDIA A100-SXM4-40GB", gpu.Name);
        Assert.Null(gpu.CudaVersion);
        Assert.Empty(gpu.MigDevices);
        var warning = Assert.Single(reader.Warnings);
        Assert.StartsWith("nvidia-smi -q -x failed, so CudaVersion is null and MigDevices empty: nvidia-smi exited with code 15", warning, StringComparison.Ordinal);
        Assert.Single(reader.Query());
        Assert.Equal(1, tools.Runs.Count(r => r.Arguments[0] == "-q"));
    }

    [Fact]
    public void Query_ToolPrintsGarbageMidRun_IsASampleErrorNotACrash()
    {
        var calls = 0;
        var tools = new FakeGpuTools().With("nvidia-smi", args => args[0] switch
        {
            var a when a.StartsWith("--query-gpu", StringComparison.Ordinal) => A100Csv,
            var a when a.StartsWith("--query-compute-apps", StringComparison.Ordinal) => string.Empty,
            _ => ++calls == 1 ? "<nvidia_smi_log><gpu><mig_devices><mig_device/></mig_devices></gpu></nvidia_smi_log>" : "<nvidia_smi_log><broken",
        });
        using var reader = GpuStatusReader.Open(GpuSource.NvidiaSmi, Probe(tools), default);
        reader.Query();
        var ex = Assert.Throws<GpuToolException>(() => reader.Query());
        Assert.Contains("NvidiaSmi", ex.Message, StringComparison.Ordinal);
    }
}

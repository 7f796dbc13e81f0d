using System.Diagnostics;
using Gryphgen.Core.Gpu;
using static Gryphgen.Core.Tests.Gpu.GpuFixtures;

namespace Gryphgen.Core.Tests.Gpu;

public sealed class GpuMonitoringTests
{
    [Fact]
    public void SampleClock_SubtractsQueryTime_SoSamplesStayOnTheGrid()
    {
        var interval = TimeSpan.FromMilliseconds(150);
        var watch = Stopwatch.StartNew();
        var clock = new GpuSampleClock(interval);
        var starts = new List<double>();
        for (var n = 0; n < 4; n++)
        {
            if (n > 0)
            {
                Assert.True(clock.WaitForNext(CancellationToken.None));
            }

            starts.Add(watch.Elapsed.TotalMilliseconds);
            Thread.Sleep(50); // a slow query
        }

        for (var n = 1; n < 4; n++)
        {
            // Without subtracting the query time the n-th start would drift to n * 200 ms.
            Assert.InRange(starts[n], (n * 150) - 5, (n * 150) + 45);
        }
    }

    [Fact]
    public void SampleClock_OverrunningQuery_SkipsMissedSlotsInsteadOfBursting()
    {
        var clock = new GpuSampleClock(TimeSpan.FromMilliseconds(100));
        Thread.Sleep(250);
        var wait = clock.UntilNext();
        Assert.InRange(wait.TotalMilliseconds, 0, 60);
    }

    [Fact]
    public void SampleClock_Cancelled_ReturnsAtOnce()
    {
        using var cts = new CancellationTokenSource();
        var clock = new GpuSampleClock(TimeSpan.FromSeconds(30));
        cts.CancelAfter(50);
        var watch = Stopwatch.StartNew();
        Assert.False(clock.WaitForNext(cts.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData(960, 70, new[] { "Memory 96.0% > 95%" })]
    [InlineData(950, 85, new string[0])]
    [InlineData(100, 86, new[] { "Temperature 86 C > 85 C" })]
    [InlineData(999, 90, new[] { "Memory 99.9% > 95%", "Temperature 90 C > 85 C" })]
    public void Alerts_StrictlyAboveThreshold(long usedPerMille, int temperature, string[] expected)
    {
        var status = new GpuStatus { Index = 0, MemoryTotal = 1000, MemoryUsed = usedPerMille, TemperatureC = temperature };
        Assert.Equal(expected, new GpuAlertThresholds().Apply(status).Alerts);
    }

    [Fact]
    public void Alerts_UnknownReadings_RaiseNothing()
    {
        Assert.Empty(new GpuAlertThresholds(0, 0).Apply(new GpuStatus { Index = 0 }).Alerts);
    }

    [Fact]
    public void Filter_ByIndexAndUuid()
    {
        var gpus = new[] { new GpuStatus { Index = 0, Uuid = "GPU-a" }, new GpuStatus { Index = 1, Uuid = "GPU-B" } };
        Assert.Equal([1], gpus.Where(new GpuStatusFilter([1], null).Matches).Select(g => g.Index));
        Assert.Equal([1], gpus.Where(new GpuStatusFilter(null, ["gpu-b"]).Matches).Select(g => g.Index));
        Assert.Equal([0, 1], gpus.Where(new GpuStatusFilter([], []).Matches).Select(g => g.Index));
        Assert.DoesNotContain(gpus, new GpuStatusFilter([0], ["GPU-B"]).Matches);
    }

    [Fact]
    public void Reader_FirstSampleFromProbe_IsReusedOnlyWhenFresh()
    {
        var backend = new CountingBackend();
        using var fresh = new GpuStatusReader(backend, [new GpuStatus { Index = 0, Timestamp = DateTime.UtcNow }]);
        fresh.Query();
        Assert.Equal(0, backend.Queries);
        fresh.Query();
        Assert.Equal(1, backend.Queries);

        using var stale = new GpuStatusReader(backend, [new GpuStatus { Index = 0, Timestamp = Timestamp }]);
        stale.Query();
        Assert.Equal(2, backend.Queries);
    }

    private sealed class CountingBackend : IGpuBackend
    {
        public int Queries { get; private set; }

        public GpuSource Source => GpuSource.NvidiaSmi;

        public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken)
        {
            Queries++;
            return [new GpuStatus { Index = 0, Timestamp = DateTime.UtcNow }];
        }

        public void Dispose()
        {
        }
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gpu;

namespace Gryphgen.Core.Agents;

/// <summary>
/// What starting planned models on this machine needs from the plans: which local GPUs each uses (plans made from
/// Get-GpuStatus name them "GPU 0: ..."), and whether the set still fits the GPUs' free memory now.
/// </summary>
public static partial class PlannedSet
{
    [GeneratedRegex(@"^GPU (\d+): ", RegexOptions.CultureInvariant)]
    private static partial Regex LocalGpuName();

    /// <summary>The local GPU index a plan's device names, or null for a catalogue card or a memory size.</summary>
    public static int? LocalGpuIndex(DeviceFit device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var match = LocalGpuName().Match(device.Gpu);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>
    /// CUDA_VISIBLE_DEVICES (with CUDA_DEVICE_ORDER=PCI_BUS_ID, so indexes mean what nvidia-smi says) for the local
    /// GPUs of a plan that offloads layers, in the plan's order so a tensor split lines up; empty otherwise.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DeviceEnvironment(ModelFit fit)
    {
        ArgumentNullException.ThrowIfNull(fit);
        var indexes = fit.Devices.Select(LocalGpuIndex).ToList();
        if (fit.GpuLayers == 0 || indexes.Count == 0 || indexes.Any(i => i is null))
        {
            return new Dictionary<string, string>();
        }

        return new Dictionary<string, string>
        {
            ["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID",
            ["CUDA_VISIBLE_DEVICES"] = string.Join(",", indexes.Select(i => i!.Value.ToString(CultureInfo.InvariantCulture))),
        };
    }

    /// <summary>
    /// Why <paramref name="fits"/> cannot all start on <paramref name="gpus"/> now: a device that is not a local GPU,
    /// a GPU that is gone, or a GPU whose free memory is less than the set's share of it. Empty when they fit.
    /// </summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<ModelFit> fits, IReadOnlyList<GpuStatus> gpus)
    {
        ArgumentNullException.ThrowIfNull(fits);
        ArgumentNullException.ThrowIfNull(gpus);
        var problems = new List<string>();
        var needs = new SortedDictionary<int, List<(string Model, long Bytes)>>();
        foreach (var fit in fits.Where(f => f.GpuLayers > 0))
        {
            foreach (var device in fit.Devices.Where(d => d.GpuBytes > 0))
            {
                if (LocalGpuIndex(device) is not { } index)
                {
                    problems.Add($"'{fit.ModelName}' was planned for '{device.Gpu}', not for a GPU of this machine: plan with Get-GpuStatus | Select-ModelForGpu, or without -GpuName/-MemoryBytes.");
                    continue;
                }

                if (!needs.TryGetValue(index, out var list))
                {
                    list = [];
                    needs[index] = list;
                }

                list.Add((fit.ModelName, device.GpuBytes));
            }
        }

        foreach (var (index, list) in needs)
        {
            var gpu = gpus.FirstOrDefault(g => g.Index == index);
            var free = gpu?.MemoryFree ?? (gpu?.MemoryTotal is { } total && gpu.MemoryUsed is { } used ? total - used : null);
            var need = list.Sum(n => n.Bytes);
            var shares = string.Join(", ", list.Select(n => $"{n.Model} {Bytes.Format(n.Bytes)}"));
            if (gpu is null)
            {
                problems.Add($"GPU {index} is not there now (Get-GpuStatus lists {string.Join(", ", gpus.Select(g => g.Index))}); the set needs {Bytes.Format(need)} on it ({shares}).");
            }
            else if (free is null)
            {
                problems.Add($"GPU {index} ({gpu.Name}) does not report its free memory, so the set's {Bytes.Format(need)} on it cannot be checked.");
            }
            else if (need > free)
            {
                problems.Add($"GPU {index} ({gpu.Name}) has {Bytes.Format(free.Value)} free now; the set needs {Bytes.Format(need)} on it ({shares}).");
            }
        }

        return problems;
    }
}

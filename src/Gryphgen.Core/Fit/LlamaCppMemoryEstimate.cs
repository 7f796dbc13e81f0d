using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Fit;

/// <summary>What one GPU holds under an estimate, in bytes.</summary>
public sealed record DeviceMemoryEstimate
{
    /// <summary>Position of the device in the split (0 = first GPU given).</summary>
    public required int Device { get; init; }

    /// <summary>Offloaded layers on this device (the output layer counts as one, as in n_gpu_layers).</summary>
    public required int Layers { get; init; }

    /// <summary>Weights of those layers, bytes.</summary>
    public required long WeightsBytes { get; init; }

    /// <summary>KV cache (and recurrent state) of those layers, bytes.</summary>
    public required long KvCacheBytes { get; init; }

    /// <summary>Compute buffer of this device, bytes.</summary>
    public required long ComputeBytes { get; init; }

    /// <summary>Fixed per-device overhead (CUDA context and the like), bytes; 0 when the device holds no layer.</summary>
    public required long OverheadBytes { get; init; }

    /// <summary>Everything on this device, bytes.</summary>
    public long TotalBytes => WeightsBytes + KvCacheBytes + ComputeBytes + OverheadBytes;
}

/// <summary>
/// What llama.cpp allocates for one model under one set of settings and one layer placement: a plain data
/// structure, every size in bytes. Build it with <see cref="Create(GgufModel, LlamaCppSettings, int, IReadOnlyList{double}?)"/>.
/// With <see cref="GpuLayers"/> = 0 it is what llama.cpp's CPU backend prints: HostWeightsBytes is the
/// "model buffer size", HostKvCacheBytes the "KV buffer size", OutputBytes the "output buffer size" and
/// HostComputeBytes the "compute buffer size".
/// </summary>
public sealed record LlamaCppMemoryEstimate
{
    /// <summary>The settings estimated for.</summary>
    public required LlamaCppSettings Settings { get; init; }

    /// <summary>The context llama.cpp allocates (padded), tokens.</summary>
    public required int ContextLength { get; init; }

    /// <summary>n_gpu_layers: offloaded layers, the output layer included.</summary>
    public required int GpuLayers { get; init; }

    /// <summary>Block count + 1 (the output layer): the n_gpu_layers that offloads everything.</summary>
    public required int TotalLayers { get; init; }

    /// <summary>One entry per GPU of the split, in split order.</summary>
    public required IReadOnlyList<DeviceMemoryEstimate> Devices { get; init; }

    /// <summary>Weights left in host memory (input layer, layers not offloaded, experts kept on the host), bytes.</summary>
    public required long HostWeightsBytes { get; init; }

    /// <summary>KV cache of the layers not offloaded, bytes.</summary>
    public required long HostKvCacheBytes { get; init; }

    /// <summary>The host compute buffer, bytes.</summary>
    public required long HostComputeBytes { get; init; }

    /// <summary>The host output (logits) buffer, bytes.</summary>
    public required long OutputBytes { get; init; }

    /// <summary>llama-server's context checkpoints in host memory, bytes: settings' ContextCheckpoints × parallel slots × one sequence's recurrent state and window cache.</summary>
    public long HostCheckpointBytes { get; init; }

    /// <summary>All GPU memory, bytes.</summary>
    public long GpuBytes => Devices.Sum(d => d.TotalBytes);

    /// <summary>All host memory, bytes (mapped weights included: they are resident once read).</summary>
    public long HostBytes => HostWeightsBytes + HostKvCacheBytes + HostComputeBytes + OutputBytes + HostCheckpointBytes;

    /// <summary>Weights anywhere, bytes.</summary>
    public long WeightsBytes => HostWeightsBytes + Devices.Sum(d => d.WeightsBytes);

    /// <summary>KV cache anywhere, bytes.</summary>
    public long KvCacheBytes => HostKvCacheBytes + Devices.Sum(d => d.KvCacheBytes);

    /// <summary>Compute and output buffers anywhere, bytes.</summary>
    public long ComputeBytes => HostComputeBytes + OutputBytes + Devices.Sum(d => d.ComputeBytes);

    /// <summary>Per-device overheads, bytes.</summary>
    public long OverheadBytes => Devices.Sum(d => d.OverheadBytes);

    /// <summary>Everything, bytes.</summary>
    public long TotalBytes => GpuBytes + HostBytes;

    /// <summary>Estimates a model read from a GGUF file. <paramref name="split"/>: relative share of each GPU (llama.cpp's -ts); null = one GPU.</summary>
    public static LlamaCppMemoryEstimate Create(GgufModel model, LlamaCppSettings settings, int gpuLayers = 0, IReadOnlyList<double>? split = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new LlamaCppModelCost(model).Estimate(settings, gpuLayers, split);
    }
}

/// <summary>
/// The parts of an estimate that do not depend on the settings (shape, weights), kept so a planner that tries
/// many contexts and layer counts reads the tensor table once.
/// </summary>
public sealed class LlamaCppModelCost
{
    /// <summary>Reads shape and weights of a model.</summary>
    public LlamaCppModelCost(GgufModel model, GgufModel? draft = null, GgufModel? projector = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Draft = draft is null ? null : new LlamaCppModelCost(draft);
        Projector = projector;
        if (projector is not null)
        {
            // The projector's figures depend only on flash attention: size both once, not on every estimate a
            // planner's searches make.
            _projectorWithoutFlash = ProjectorEstimate.From(projector, flashAttention: false);
            _projectorWithFlash = ProjectorEstimate.From(projector, flashAttention: true);
        }

        Shape = LlamaCppModelShape.From(model);
        Weights = WeightsEstimate.From(model.GetTensors(), Shape.LayerCount, Shape.NextNLayerCount);
        _work = new Lazy<TokenWork>(() => TokenWork.From(model.GetTensors(), Shape, model.ExpertCount));
    }

    private readonly Lazy<TokenWork> _work;

    /// <summary>What one token multiplies and reads, per layer: for the speed estimate.</summary>
    public TokenWork Work => _work.Value;

    public GgufModel Model { get; }

    /// <summary>
    /// A draft model for speculative decoding (llama-server's <c>-md</c>), loaded beside the model by the same
    /// process: all its layers on the first GPU (<c>-ngld 99</c>), its own KV cache at the model's context and its
    /// own compute buffer; null without one.
    /// </summary>
    public LlamaCppModelCost? Draft { get; }

    /// <summary>A vision projector (llama-server's <c>--mmproj</c>), offloaded to the first GPU as llama-server does by default; null without one.</summary>
    public GgufModel? Projector { get; }

    private readonly ProjectorEstimate? _projectorWithoutFlash;
    private readonly ProjectorEstimate? _projectorWithFlash;

    /// <summary>What the projector takes with or without flash attention; null without one.</summary>
    public ProjectorEstimate? ProjectorFor(bool flashAttention) => flashAttention ? _projectorWithFlash : _projectorWithoutFlash;

    public LlamaCppModelShape Shape { get; }

    public WeightsEstimate Weights { get; }

    /// <summary>Whether the model has MoE expert tensors (what --cpu-moe and --n-cpu-moe move).</summary>
    public bool HasExperts => Weights.LayerExpertBytes.Any(b => b > 0);

    /// <summary>n_gpu_layers that offloads everything: the repeating blocks (NextN blocks not counted, as llama.cpp's n_layer()) + 1.</summary>
    public int TotalLayers => OffloadableBlocks + 1;

    /// <summary>Blocks llama.cpp places by n_gpu_layers: block_count less the NextN blocks.</summary>
    public int OffloadableBlocks => Shape.LayerCount - Shape.NextNLayerCount;

    /// <summary>
    /// Where each layer runs (index 0..blocks-1 the repeating blocks, the last the output layer): the device of the
    /// split, or -1 for the host. As llama.cpp: the last <paramref name="gpuLayers"/> layers are offloaded
    /// (i_gpu_start = n_layer + 1 - ngl), and layer il goes to the first device whose cumulative share exceeds
    /// (il - i_gpu_start) / ngl.
    /// </summary>
    public int[] PlaceLayers(int gpuLayers, IReadOnlyList<double>? split = null)
    {
        var n = OffloadableBlocks;
        gpuLayers = Math.Clamp(gpuLayers, 0, n + 1);
        var shares = split is { Count: > 0 } ? split : [1.0];
        var cumulative = new double[shares.Count];
        var total = shares.Sum();
        double acc = 0;
        for (var d = 0; d < shares.Count; d++)
        {
            acc += total > 0 ? shares[d] / total : 1.0 / shares.Count;
            cumulative[d] = acc;
        }

        var gpuStart = n + 1 - gpuLayers;
        var placement = new int[n + 1];
        for (var il = 0; il <= n; il++)
        {
            if (il < gpuStart)
            {
                placement[il] = -1;
                continue;
            }

            var at = (double)(il - gpuStart) / gpuLayers;
            var device = 0;
            while (device < shares.Count - 1 && at >= cumulative[device])
            {
                device++;
            }

            placement[il] = device;
        }

        return placement;
    }

    /// <summary>Places layers as llama.cpp does (the last <paramref name="gpuLayers"/>, output first) and sums every buffer.</summary>
    public LlamaCppMemoryEstimate Estimate(LlamaCppSettings settings, int gpuLayers, IReadOnlyList<double>? split = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var n = OffloadableBlocks;
        gpuLayers = Math.Clamp(gpuLayers, 0, n + 1);
        var kv = KvCacheEstimate.From(Shape, settings);
        var compute = ComputeBufferEstimate.From(Shape, settings);
        var shares = split is { Count: > 0 } ? split : [1.0];
        var deviceCount = shares.Count;
        var weights = new long[deviceCount];
        var cache = new long[deviceCount];
        var layers = new int[deviceCount];
        var outputDevice = -1;

        var placement = PlaceLayers(gpuLayers, shares);
        var gpuStart = n + 1 - gpuLayers;
        long hostWeights = Weights.InputBytes, hostKv = 0;
        for (var il = 0; il <= n; il++)
        {
            var layerWeights = il < n ? Weights.LayerBytes[il] : Weights.OutputBytes + Weights.LayerBytes.Skip(n).Sum();
            if (il == n && il >= gpuStart)
            {
                layerWeights += Weights.DuplicatedOutputBytes;
            }

            // NextN blocks run after the output norm; their cache goes where the output layer goes.
            var layerKv = il < n ? kv.LayerBytes(il) : Enumerable.Range(n, Shape.LayerCount - n).Sum(kv.LayerBytes);
            var device = placement[il];
            if (device < 0)
            {
                hostWeights += layerWeights;
                hostKv += layerKv;
                continue;
            }

            var experts = il < n && settings.KeepsExpertsOnHost(il) ? Weights.LayerExpertBytes[il] : 0;
            hostWeights += experts;
            weights[device] += layerWeights - experts;
            cache[device] += layerKv;
            layers[device]++;
            if (il == n)
            {
                outputDevice = device;
            }
        }

        var devices = new DeviceMemoryEstimate[deviceCount];
        for (var d = 0; d < deviceCount; d++)
        {
            var used = layers[d] > 0;
            devices[d] = new DeviceMemoryEstimate
            {
                Device = d,
                Layers = layers[d],
                WeightsBytes = weights[d],
                KvCacheBytes = cache[d],
                ComputeBytes = used ? compute.DeviceBytes(outputDevice == d) : 0,
                OverheadBytes = used ? settings.DeviceOverheadBytes : 0,
            };
        }

        // The host runs what is not offloaded; with everything offloaded it keeps only the input embeddings' scratch.
        long ub = Math.Max(1, Math.Min(settings.UBatchSize, Math.Min(settings.BatchSize, settings.ContextLength)));
        var hostCompute = gpuLayers == 0 ? compute.DeviceBytes(true)
            : outputDevice < 0 ? compute.OutputStageBytes
            : 2 * ub * 4 * Shape.EmbeddingLength;
        long outputBytes = compute.OutputBufferBytes;

        // The draft and the projector run on the first GPU, in the same process (no second device overhead).
        void AddToFirstGpu(long weightsBytes, long kvBytes, long computeBytes) => devices[0] = devices[0] with
        {
            WeightsBytes = devices[0].WeightsBytes + weightsBytes,
            KvCacheBytes = devices[0].KvCacheBytes + kvBytes,
            ComputeBytes = devices[0].ComputeBytes + computeBytes,
            OverheadBytes = settings.DeviceOverheadBytes,
        };

        if (Draft is not null)
        {
            var draft = Draft.Estimate(settings with { ExpertsOnHost = false, ExpertLayersOnHost = 0 }, Draft.TotalLayers);
            AddToFirstGpu(draft.Devices[0].WeightsBytes, draft.Devices[0].KvCacheBytes, draft.Devices[0].ComputeBytes);
            hostWeights += draft.HostWeightsBytes;
            hostCompute += draft.HostComputeBytes;
            outputBytes += draft.OutputBytes;
        }

        if (ProjectorFor(settings.FlashAttention) is { } projector)
        {
            AddToFirstGpu(projector.WeightsBytes, 0, projector.ComputeBytes);
        }

        return new LlamaCppMemoryEstimate
        {
            Settings = settings,
            ContextLength = kv.Cells,
            GpuLayers = gpuLayers,
            TotalLayers = n + 1,
            Devices = devices,
            HostWeightsBytes = hostWeights,
            HostKvCacheBytes = hostKv,
            HostComputeBytes = hostCompute,
            OutputBytes = outputBytes,
            HostCheckpointBytes = (long)Math.Max(0, settings.ContextCheckpoints) * Math.Max(1, settings.Parallel) * kv.CheckpointBytes,
        };
    }
}

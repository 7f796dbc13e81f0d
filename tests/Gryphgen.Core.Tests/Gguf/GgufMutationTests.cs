using System.Buffers.Binary;
using System.Diagnostics;
using Gryphgen.Core.Gguf;
using Xunit.Abstractions;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>
/// Hostile headers: random corruptions of real files (bit flips, truncations, huge counts, bad type tags, shifted
/// bytes) raise only <see cref="GgufFormatException"/>, finish promptly and allocate no more than the file could
/// justify.
/// </summary>
public sealed class GgufMutationTests(ITestOutputHelper output)
{
    private const int Mutations = 10_000;

    /// <summary>
    /// Bytes a parse may allocate: the file's own size (strings decode to UTF-16, two bytes per ASCII byte, but
    /// only short strings are decoded; the vocabulary is stepped over) plus a fixed allowance for the header objects.
    /// </summary>
    private static long AllocationBound(int fileLength) => fileLength + (256 * 1024);

    [SkippableFact]
    public void Read_RandomCorruptions_ThrowOnlyGgufFormatException()
    {
        var folder = SharedTestData.Folder("gguf");
        var originals = Directory.GetFiles(folder, "*.gguf").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();

        // Our writer's v1, v2 and big-endian layouts too: no real files of those exist here.
        var random = new Random(20261127);
        foreach (var (version, bigEndian) in new[] { (1, false), (2, false), (3, true) })
        {
            using var stream = new MemoryStream();
            RandomGguf.Writer(random, version, bigEndian, tensors: 8).Write(stream);
            originals.Add(stream.ToArray());
        }

        // Warm up: the first parse allocates pooled buffers and JIT state, which is not what is being measured.
        foreach (var original in originals)
        {
            GgufHeaderReader.Read(original);
        }

        // One working buffer per original, refilled before each mutation: copying 1.7 MB is cheap, allocating
        // 10 000 large-object-heap arrays is not.
        var buffers = originals.Select(o => new byte[o.Length + 16]).ToArray();
        var failures = new List<string>();
        var formatErrors = 0;
        long worstAllocation = 0;
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() =>
        {
            for (var i = 0; i < Mutations && failures.Count < 10; i++)
            {
                var original = originals[i % originals.Count];
                var bytes = buffers[i % originals.Count];
                original.CopyTo(bytes, 0);
                var (length, what) = Mutate(random, bytes, original.Length);
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    var header = GgufHeaderReader.Read(bytes, length, what);
                    if (i % 97 == 0)
                    {
                        // Deferred arrays were checked while being stepped over, so loading them must succeed.
                        foreach (var (_, value) in header.Metadata)
                        {
                            value.AsArray()?.ToArray();
                        }

                        before = GC.GetAllocatedBytesForCurrentThread();
                    }
                }
                catch (GgufFormatException)
                {
                    formatErrors++;
                }
                catch (Exception ex)
                {
                    failures.Add($"#{i} {what}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                worstAllocation = Math.Max(worstAllocation, allocated);
                if (allocated > AllocationBound(length))
                {
                    failures.Add($"#{i} {what}: allocated {allocated} bytes for a {length}-byte file");
                }
            }
        });

        Assert.True(run.Wait(TimeSpan.FromSeconds(120)), "the mutation run hung");
        output.WriteLine($"{Mutations} mutations in {clock.Elapsed.TotalSeconds:F1} s: {formatErrors} GgufFormatException, worst allocation {worstAllocation} bytes");
        Assert.Empty(failures);
        Assert.True(formatErrors > Mutations / 4, $"only {formatErrors} mutations were rejected: the mutator is too gentle");
    }

    private const int StructuredCases = 3000;
    private static readonly TimeSpan CaseTime = TimeSpan.FromSeconds(2);
    private const long CaseBytes = 256L << 20;

    /// <summary>
    /// Structure-aware: each case tells one lie in one field the format defines (a count, a length, a type tag, a
    /// tensor's dimension, type or offset), often in a file whose length claims gigabytes more than it holds (a
    /// sparse hole reads as zeros). Every case reads, or fails with GgufFormatException, within 2 s and 256 MiB, and
    /// a header that reads also makes a model (what Find-GgufModel does with it).
    /// </summary>
    [Fact]
    public void Read_StructureAwareLies_ReadOrFailWithGgufFormatExceptionInTimeAndMemory()
    {
        var random = new Random(20261206);
        // Headers only; their tensor data is a hole of DataLength bytes after them.
        var writers = new[] { 0, 3, 12 }.Select(tensors => RandomGguf.Writer(random, version: 3, bigEndian: false, tensors))
            .Append(GgufModelBuilder.CreateWriter(GgufModelShape.PerLayerKvHeads)).ToList();
        var originals = writers.Select(w => w.GetHeaderBytes()).ToList();
        var dataLengths = writers.Select(w => w.DataLength).ToList();
        // Fields grouped by kind, and a kind picked first: a vocabulary's thousand string lengths would otherwise
        // drown the one per-layer array count.
        var layouts = originals.Select(o => GgufLayout.Of(o).GroupBy(f => f.Field).Select(g => g.ToArray()).ToArray()).ToList();
        for (var k = 0; k < originals.Count; k++)
        {
            var source = new SparseGgufSource("original", originals[k], originals[k].Length, originals[k].Length + dataLengths[k]);
            Assert.NotNull(new GgufModel([GgufHeaderReader.Read(source, () => source)]).Name); // warm up, and prove the originals read
        }

        var buffers = originals.Select(o => new byte[o.Length]).ToArray();
        var failures = new List<string>();
        var formatErrors = 0;
        long worstAllocation = 0;
        var worstTime = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() =>
        {
            for (var i = 0; i < StructuredCases && failures.Count < 10; i++)
            {
                var which = i % originals.Count;
                var bytes = buffers[which];
                originals[which].CopyTo(bytes, 0);
                var kind = layouts[which][random.Next(layouts[which].Length)];
                var (offset, field) = kind[random.Next(kind.Length)];
                var lie = Lie(random, bytes, offset, field);
                var claimed = bytes.Length + dataLengths[which] + (random.Next(3) == 0 ? 1L << random.Next(20, 41) : 0);
                var what = $"#{i} {field} at {offset} = {lie}, {claimed} bytes claimed";
                var source = new SparseGgufSource(what, bytes, bytes.Length, claimed);

                var caseClock = Stopwatch.StartNew();
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    var header = GgufHeaderReader.Read(source, () => source);
                    _ = new GgufModel([header]);
                }
                catch (GgufFormatException)
                {
                    formatErrors++;
                }
                catch (Exception ex)
                {
                    failures.Add($"{what}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                worstAllocation = Math.Max(worstAllocation, allocated);
                worstTime = caseClock.Elapsed > worstTime ? caseClock.Elapsed : worstTime;
                if (allocated > CaseBytes)
                {
                    failures.Add($"{what}: allocated {allocated} bytes");
                }

                if (caseClock.Elapsed > CaseTime)
                {
                    failures.Add($"{what}: took {caseClock.Elapsed.TotalSeconds:0.0} s");
                }
            }
        });

        Assert.True(run.Wait(TimeSpan.FromSeconds(120)), "the structure-aware run hung");
        output.WriteLine($"{StructuredCases} structured cases in {clock.Elapsed.TotalSeconds:F1} s: {formatErrors} GgufFormatException, worst {worstTime.TotalMilliseconds:0} ms and {worstAllocation} bytes");
        Assert.Empty(failures);
        Assert.True(formatErrors > StructuredCases / 4, $"only {formatErrors} cases were rejected: the lies are too gentle");
    }

    /// <summary>Writes a value into <paramref name="field"/> that a careless reader would trust; returns it for the case's name.</summary>
    private static ulong Lie(Random random, byte[] bytes, int offset, GgufField field)
    {
        var left = (ulong)(bytes.Length - offset);
        ulong[] sizes = [0, 1, 2, left / 8, left, left + 1, (1UL << 31) - 1, (1UL << 31) + 5, 1UL << 32, 1UL << 40, 1UL << 62, long.MaxValue, ulong.MaxValue];
        switch (field)
        {
            case GgufField.ValueType or GgufField.ArrayElementType or GgufField.TensorType or GgufField.DimensionCount:
            {
                uint[] tags = field switch
                {
                    GgufField.DimensionCount => [0, 1, 4, 5, 255, uint.MaxValue],
                    GgufField.TensorType => [0, 1, 2, 12, 30, 39, 40, 45, 9999, uint.MaxValue],
                    _ => [0, 4, 8, 9, 10, 12, 13, 255, uint.MaxValue],
                };
                var tag = random.Next(3) == 0 ? (uint)random.Next(0, 16) : tags[random.Next(tags.Length)];
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), tag);
                return tag;
            }

            case GgufField.Dimension:
            {
                ulong[] dims = [0, 1, 31, 33, 255, 1UL << 31, 1UL << 32, (1UL << 32) + 1, 1UL << 62, long.MaxValue, (ulong)long.MaxValue + 1];
                var dim = dims[random.Next(dims.Length)];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset), dim);
                return dim;
            }

            case GgufField.TensorOffset:
            {
                ulong[] offsets = [0, 1, 31, 32, 4096, 1UL << 40, (ulong)long.MaxValue - 31, ulong.MaxValue - 31];
                var value = offsets[random.Next(offsets.Length)];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset), value);
                return value;
            }

            default:
            {
                var value = random.Next(4) == 0 ? (ulong)random.NextInt64(0, 1L << 20) : sizes[random.Next(sizes.Length)];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset), value);
                return value;
            }
        }
    }

    /// <summary>Corrupts <paramref name="bytes"/> (holding a file of <paramref name="length"/> bytes) in place; returns the new length.</summary>
    private static (int Length, string What) Mutate(Random random, byte[] bytes, int length)
    {
        // Most of a vocab file is its token strings; aim most mutations at the first 8 KiB (counts, keys, types,
        // the tensor table of small files) where they do the most damage.
        int Position(int limit) => random.Next(3) == 0 ? random.Next(limit) : random.Next(Math.Min(limit, 8192));

        switch (random.Next(6))
        {
            case 0:
            {
                var flips = random.Next(1, 5);
                for (var f = 0; f < flips; f++)
                {
                    bytes[Position(length)] ^= (byte)(1 << random.Next(8));
                }

                return (length, $"{flips} bit flips");
            }

            case 1:
            {
                var cut = Position(length);
                return (cut, $"truncated to {cut}");
            }

            case 2:
            {
                ulong[] huge = [ulong.MaxValue, long.MaxValue, 1UL << 40, uint.MaxValue, 1UL << 31, (ulong)length, (ulong)length / 2];
                var value = huge[random.Next(huge.Length)];
                var at = Position(length - 8);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
                return (length, $"count {value} at {at}");
            }

            case 3:
            {
                var at = Position(length - 4);
                var tag = (uint)random.Next(0, 16);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), tag);
                return (length, $"tag {tag} at {at}");
            }

            case 4:
            {
                var at = Position(length);
                var count = Math.Min(random.Next(1, 9), length - at);
                if (random.Next(2) == 0)
                {
                    bytes.AsSpan(at, length - at).CopyTo(bytes.AsSpan(at + count));
                    bytes.AsSpan(at, count).Clear();
                    return (length + count, $"{count} zero bytes inserted at {at}");
                }

                bytes.AsSpan(at + count, length - at - count).CopyTo(bytes.AsSpan(at));
                return (length - count, $"{count} bytes removed at {at}");
            }

            default:
            {
                var at = Position(length);
                var count = Math.Min(random.Next(1, 64), length - at);
                random.NextBytes(bytes.AsSpan(at, count));
                return (length, $"{count} random bytes at {at}");
            }
        }
    }
}

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

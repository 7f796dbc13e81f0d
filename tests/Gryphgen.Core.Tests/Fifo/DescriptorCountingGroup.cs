namespace Gryphgen.Core.Tests.Fifo;

/// <summary>
/// Tests that count /proc/self/fd before and after must not run beside tests that open files, or the counts
/// would include the other tests' descriptors.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DescriptorCountingGroup
{
    public const string Name = "Descriptor counting";
}
